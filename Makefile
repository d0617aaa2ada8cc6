# carelens — build, run, test, bench. Every Go command needs -tags duckdb_arrow.
GO       ?= go
TAGS     := duckdb_arrow
BIN      := bin/carelens
DEMO     ?= data/demo
PATIENTS ?= 5000
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build run demo test vet fmt-check bench assets clean

all: build

build:
	$(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/carelens

# Build, generate the demo population if absent, create the demo's vault key
# if absent, load it, serve :8080.
run: build demo
	@if [ -z "$$CARELENS_VAULT_KEY" ] && [ ! -f data/vault.key ]; then \
		$(BIN) privacy new-key --out data/vault.key; \
		echo "demo: data/vault.key seals the vault; a deployment supplies its own key (docs/vault.md)"; \
	fi
	$(BIN) etl run --dir $(DEMO)
	$(BIN) etl valuesets metrics/valuesets
	@for vs in $(ECQM_VALUESETS); do \
		if [ -f $$vs ]; then $(BIN) etl valuesets $$vs; \
		else echo "demo: $$vs is absent: its eCQM reports no patients (docs/write-a-metric.md)"; fi; \
	done
	$(BIN) serve

demo: build
	@if [ ! -f $(DEMO)/ehr/manifest.json ]; then \
		echo "generating $(PATIENTS) demo patients into $(DEMO)"; \
		$(BIN) gen --patients $(PATIENTS) --seed 1 --out $(DEMO); \
	fi

SOF_TESTS ?= ../shared/data/sql-on-fhir-v2/tests
# The eCQM value sets (VSAC expansions) are not redistributed here; the demo
# loads them from ../shared when it sits beside the checkout.
ECQM_VALUESETS ?= ../shared/data/ecqm/CMS165/valuesets-ControllingHighBloodPressureFHIR-bundle.json \
	../shared/data/ecqm/CMS122/valuesets-DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR-bundle.json

test: fmt-check vet build
	$(BIN) metrics check
	@if [ -d $(SOF_TESTS) ]; then \
		$(BIN) fhir test-views $(SOF_TESTS) --report bin/test_report.json --min 0.95; \
	else \
		echo "SQL-on-FHIR conformance skipped: $(SOF_TESTS) is absent (it lives in ../shared beside the checkout)"; \
	fi
	$(GO) test -tags $(TAGS) -count=1 ./...

vet:
	$(GO) vet -tags $(TAGS) ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Benchmarks, each reporting beside its anchor in the same run.
bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem -timeout 60m ./...

# Re-fetch the pinned echarts build from npm and verify its checksum.
assets:
	./dashboards/update-echarts.sh

clean:
	rm -rf bin
