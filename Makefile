# vigil: `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin
# Tests load eBPF programs and start databases: one package at a time keeps
# the 2-core machines from timing out, and -p 1 keeps kernel probes from
# seeing other packages' tests.
TESTFLAGS ?= -p 1 -timeout 50m
MAINS = $(shell $(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./agent/cmd/... ./collector/cmd/... ./cmd/... 2>/dev/null)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

.PHONY: build
build: ## build vigil-agent, vigil-collector and vigil into bin/
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ $(MAINS)

# Each binary writes its man pages and completions from its own command
# tree, so they cannot drift from the flags it takes.
DOCS_BINS := vigil vigil-agent vigil-collector

.PHONY: man-completions
man-completions: build ## write the three binaries' man pages and bash/zsh/fish completions into bin/docs/NAME
	@rm -rf $(BIN)/docs
	for b in $(DOCS_BINS); do $(BIN)/$$b gendocs $(BIN)/docs/$$b || exit 1; done

.PHONY: package
package: build man-completions ## build .deb and .rpm of agent, collector and CLI into dist/ (nfpm as a library)
	@rm -rf dist
	$(GO) run ./packaging/cmd/mkpkg -bin $(BIN) -out dist -version '$(VERSION)'

.PHONY: test-install
test-install: package ## install, check, remove and purge the .deb packages on this machine (root)
	bash packaging/test-install.sh dist

.PHONY: generate
generate: generate-schema ## rebuild the eBPF objects and their Go bindings (needs clang), and what generate-schema writes
	$(GO) generate ./agent/sensor/...

# What schemagen writes from the structs of event/event.go.
SCHEMA_OUT := event/json_gen.go event/decode_gen.go rules/fields_gen.go docs/events.md docs/rules.md

.PHONY: generate-schema
generate-schema: ## rewrite the event schema's encoder, decoder, rule fields and doc tables from event/event.go
	$(GO) generate ./event/... ./rules/...

.PHONY: check-generate
check-generate: generate check-generate-schema ## fail if the committed generated output (eBPF, event schema) is stale
	@git diff --exit-code --stat -- agent/sensor || { echo "generated eBPF files are stale: run make generate and commit"; exit 1; }

.PHONY: check-generate-schema
check-generate-schema: generate-schema ## fail if what generate-schema writes is stale (no clang needed)
	@git diff --exit-code --stat -- $(SCHEMA_OUT) || { echo "files generated from event/event.go are stale: run make generate-schema and commit"; exit 1; }

.PHONY: test
test: ## run every test (root: eBPF, databases, NATS; others skip with a reason, which fails under CI=true)
	$(GO) test $(TESTFLAGS) ./...

# PKGS narrows fuzz and cover, e.g. make cover PKGS=./rules/...
PKGS ?= ./...
FUZZTIME ?= 10s
COVERPROFILE ?= coverage.out

.PHONY: fuzz
fuzz: ## run every Fuzz target (found with go test -list) for FUZZTIME each, default 10s
	GO='$(GO)' PKGS='$(PKGS)' FUZZTIME='$(FUZZTIME)' bash tools/fuzz.sh

.PHONY: cover
cover: ## run the tests (as make test) with a coverage profile in coverage.out; print coverage by package
	GO='$(GO)' PKGS='$(PKGS)' TESTFLAGS='$(TESTFLAGS)' COVERPROFILE='$(COVERPROFILE)' bash tools/cover.sh

.PHONY: bench
bench: ## measure overhead (max and fixed-rate pgbench) beside auditd, the pipeline to JetStream and to the store, rules, latency, CPU/RSS; writes docs/benchmarks.md and .csv (root, ~30 min)
	$(SUDO) env "PATH=$(PATH)" $(GO) run ./test/bench -out docs

# golangci-lint is pinned in tools/go.mod, apart from the module's own
# dependencies.
GOLANGCI_LINT ?= $(GO) tool -modfile=tools/go.mod golangci-lint

.PHONY: lint
lint: ## gofmt, go vet, golangci-lint (.golangci.yaml: layering by depguard, staticcheck, errcheck...), then proves a forbidden import fails it
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...
	GO='$(GO)' bash tools/lintcheck.sh

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run
run: build ## run vigil here: collector with embedded NATS, an agent with the default rules, alerts live
	$(SUDO) test/run-local.sh

.PHONY: run-agent
run-agent: build ## run only the agent, printing events and alerts as JSON lines
	$(SUDO) $(BIN)/vigil-agent run --stdout --rules rules/packs

.PHONY: clean
clean: ## remove build output
	rm -rf $(BIN) dist
