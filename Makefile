# Argus build and test entry points. `make run` and `make test` are all a
# fresh machine needs (Go from the module proxy is the only dependency).

GO        ?= go
BINARY    ?= argus
VERSION   ?= $(shell cat VERSION 2>/dev/null || echo 0.1.0-dev)
REVISION  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS   := -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) -X $(VERSION_PKG).Branch=$(BRANCH)
# Flags passed to the server by `make run`; e.g. make run ARGS=--log.level=debug
ARGS      ?=
# Benchmarks to run with `make bench`; e.g. make bench BENCH=Append PKG=./tsdb/...
BENCH     ?= .
PKG       ?= ./...

.PHONY: all build run test unit lint fmt vet bench soak-scrape clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/argus

run: build
	./$(BINARY) --storage.tsdb.path=data/ --web.listen-address=0.0.0.0:9090 $(ARGS)

# The whole suite: lint first, then every package's tests, end-to-end tests
# of the built binary included.
test: lint unit

unit:
	$(GO) test -race -count=1 -timeout 8m ./...

lint: fmt vet

fmt:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needs to be run on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The scrape soak (not part of make test): 1000 targets x 1000 series every
# 15s for 10 minutes against the real binary; reports CPU seconds per million
# samples, RSS and scrape drift. SOAK_TARGETS, SOAK_SERIES, SOAK_INTERVAL and
# SOAK_DURATION override the sizes.
soak-scrape:
	$(GO) test -tags soak -run TestSoakScrape -count=1 -timeout 30m -v ./cmd/argus

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKG)

clean:
	rm -f $(BINARY)
