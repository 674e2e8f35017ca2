# The project's commands. `make test` and `make demo` work on a fresh Debian machine as root:
# they install what they need (Debian packages, PyPI tools, crates) and start their own services.
SHELL := /bin/bash
CARGO ?= cargo
WITH_SERVICES := scripts/with-services.sh

.PHONY: test unit build lint fmt fuzz demo bench sam-validate sam-build lambda-emulation clean-work

## Builds the release binaries (tests, memory checks and the benchmark all use them).
build:
	$(CARGO) build --release --workspace --bins

## Unit tests of pure logic: no services needed.
unit:
	$(CARGO) test --release --workspace --lib --bins

## Everything: lint, the SAM template, unit and integration tests against a real PostgreSQL and S3
## server, and every file in events/ through the real binaries under the Lambda runtime emulation.
test: build lint sam-validate
	$(WITH_SERVICES) bash -c '$(CARGO) test --release --workspace && tests/lambda_emulation/run_events.sh'

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean-work:
	rm -rf .work

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := parquet_to_partials label_parser
FUZZ_CARGO ?= cargo +nightly
# Per run: RSS well above the 128 MiB function ceiling (libFuzzer and ASan need their own), any single
# allocation over the ceiling, and any input taking over 10 s (a hang: the seeds take milliseconds).
FUZZ_LIMITS := -rss_limit_mb=1024 -malloc_limit_mb=128 -timeout=30

## Fuzzes each target for FUZZ_SECONDS (nightly, cargo-fuzz; see fuzz/README.md). New corpus entries go
## to fuzz/target/corpus (not committed), crashes to fuzz/artifacts; keep them in fuzz/regressions.
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	for t in $(FUZZ_TARGETS); do \
	    mkdir -p fuzz/target/corpus/$$t && \
	    $(FUZZ_CARGO) fuzz run $$t $(CURDIR)/fuzz/target/corpus/$$t $(CURDIR)/fuzz/corpus/$$t -- \
	        -max_total_time=$(FUZZ_SECONDS) $(FUZZ_LIMITS) $$(test -f fuzz/$$t.dict && echo -dict=$(CURDIR)/fuzz/$$t.dict) \
	        || exit 1; \
	done

## Benchmark: ingest vs DuckDB (1 thread) side by side, memory, end to end, roll-up, concurrency.
## Results in bench/results/ (see bench/README.md).
bench: build
	$(WITH_SERVICES) python3 bench/run.py $(BENCH_ARGS)

SAM_VENV := .work/venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_ENV := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH"

# SAM CLI and cargo-lambda live in their own venv (their pins must not touch moto's).
$(SAM):
	python3 -m venv $(SAM_VENV)
	PIP_DISABLE_PIP_VERSION_CHECK=1 $(SAM_VENV)/bin/pip install --quiet aws-sam-cli cargo-lambda

## Validates template.yaml offline (SAM transform + cfn-lint).
sam-validate: $(SAM)
	$(SAM_ENV) $(SAM) validate --lint --template template.yaml

## Builds both functions for Lambda (arm64, cargo-lambda) into .aws-sam/build. Slow the first time.
sam-build: $(SAM)
	$(SAM_ENV) $(SAM) build --beta-features --template template.yaml

## The pipeline on this machine: PostgreSQL + S3/SQS on loopback, koku-like uploads, ingest, roll-up, report.
demo: build
	demo/run.sh

## Every payload in events/ through the release binaries under `cargo lambda watch`.
lambda-emulation: build
	$(WITH_SERVICES) tests/lambda_emulation/run_events.sh
