# Differential test against the real gdnsd (test/gdnsddiff): gdnsd 3.8.1
# (Debian's package) on a production-shaped config directory, authdns on
# `authdns import-gdnsd` of it, the same queries to both, a report of every
# difference by class (docs/gdnsd-diff.md). `make test` runs it with
# DIFF_QUERIES=1000 (the test's default); `make diff-gdnsd` with 10,000.
#   make diff-gdnsd DIFF_QUERIES=50000 DIFF_SEED=7
TEST_DEPS += deps-gdnsd

DIFF_QUERIES ?= 10000
DIFF_SEED    ?= 16

.PHONY: diff-gdnsd
diff-gdnsd: deps-gdnsd
	DIFF_QUERIES=$(DIFF_QUERIES) DIFF_SEED=$(DIFF_SEED) \
		$(GO) test -count=1 -v -timeout 30m -run '^(TestHarness.*|TestDiffGdnsd)$$' ./test/gdnsddiff/
