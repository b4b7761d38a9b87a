# fuzz: every Go fuzz target (func FuzzX in a _test.go file), found by
# scripts/fuzz.sh, run one after the other for FUZZTIME each; the first
# failure stops it and names the package, target and crasher file.
#   make fuzz FUZZTIME=2m
# The seed corpora (f.Add seeds and testdata/fuzz/) also run as plain
# tests in `make test`.
FUZZTIME ?= 30s

.PHONY: fuzz
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh
