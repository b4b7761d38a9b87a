# geotraffic build, run, test and benchmark entry points.
# Each part of the project may add a fragment in mk/*.mk that appends to
# TEST_DEPS (Debian packages and tools its tests need), BENCH_DEPS and
# EXTRA_TESTS, so parts can grow without editing this file.

GO       ?= go
BIN      := bin
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/geotraffic/geotraffic/internal/version.Version=$(VERSION)
PORT     ?= 5300
CONFIG   ?= config/authdns.yaml

TEST_DEPS  :=
BENCH_DEPS :=

.PHONY: all build run test bench vet fmt clean
all: build

include $(wildcard mk/*.mk)

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# run serves the committed default configuration on 127.0.0.1 and ::1, port $(PORT).
run: build
	$(BIN)/authdns --config $(CONFIG)

vet:
	$(GO) vet ./...

# test installs what the tests need (dig, ...), vets, and runs every test once.
test: build $(TEST_DEPS)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# bench prints figures; it never fails on noise.
bench: build $(BENCH_DEPS)
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./... | tee $(BIN)/bench-go.txt
	@for s in scripts/bench-*.sh; do [ -x "$$s" ] && "$$s" || true; done

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
