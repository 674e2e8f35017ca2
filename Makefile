# The project's commands. `make test` and `make demo` work on a fresh Debian machine as root, from any
# checkout location: they install what they need (Debian packages; the PyPI tools into virtual
# environments under .work/ from the pinned requirements*.txt, never into the system's Python; crates)
# and start their own services.
SHELL := /bin/bash
CARGO ?= cargo
WITH_SERVICES := scripts/with-services.sh
WORK := $(CURDIR)/.work
VENV := $(WORK)/venv
SAM_VENV := $(WORK)/venv-sam

.PHONY: test unit build lint fmt fuzz demo bench sam-validate sam-build lambda-emulation sam-local \
	fresh-clone-test deps venv venv-sam lambda-base-image clean-work

## Builds the release binaries (tests, memory checks and the benchmark all use them).
build:
	$(CARGO) build --release --workspace --bins

## Unit tests of pure logic: no services needed.
unit:
	$(CARGO) test --release --workspace --lib --bins

## Everything: lint, the SAM template, unit and integration tests against a real PostgreSQL and S3
## server, every file in events/ through the release binaries under cargo-lambda's emulation and
## under `sam local invoke` (needs a running Docker engine; checked first), then the emulation once
## more from a fresh clone in a directory only root can enter.
## The Python environments and the Lambda base image are made while the release build runs.
test: deps
	scripts/lambda-base-image.sh --check-docker
	$(MAKE) --no-print-directory -j4 venv venv-sam lambda-base-image build
	$(MAKE) --no-print-directory lint sam-validate
	$(WITH_SERVICES) bash -c '$(CARGO) test --release --workspace && tests/lambda_emulation/run_events.sh \
	    && tests/lambda_emulation/run_events.sh --via sam'
	tests/fresh_clone.sh

## Debian packages (scripts/install-deps.sh: postgresql, openssl, python3-venv, debootstrap).
deps:
	scripts/install-deps.sh

## The project's Python tools (moto, pyarrow, boto3, ...) in .work/venv, from requirements.txt.
venv: deps
	scripts/venv.sh $(VENV) requirements.txt

## SAM CLI and cargo-lambda in .work/venv-sam, from requirements-sam.txt (their pins must not meet moto's).
venv-sam: deps
	scripts/venv.sh $(SAM_VENV) requirements-sam.txt

## The base image `sam local invoke` runs functions in, built locally (no registry); cached.
lambda-base-image: deps
	scripts/lambda-base-image.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Stops the services (the PostgreSQL cluster lives outside .work, recorded in it) and removes .work.
clean-work:
	scripts/s3.sh stop .work/s3
	scripts/pg.sh stop .work/pg
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
## The bench's Python tools (DuckDB, matplotlib, ...) are in their own environment, .work/venv-bench.
bench: build
	PY_VENV=$(WORK)/venv-bench PY_REQUIREMENTS="requirements.txt requirements-bench.txt" \
	    $(WITH_SERVICES) python3 bench/run.py $(BENCH_ARGS)

SAM_ENV := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} SAM_CLI_TELEMETRY=0 PATH="$(SAM_VENV)/bin:$$PATH"

## Validates template.yaml offline (SAM transform + cfn-lint).
sam-validate: venv-sam
	$(SAM_ENV) sam validate --lint --template template.yaml

## Builds both functions for Lambda (arm64, cargo-lambda) into .aws-sam/build. Slow the first time.
sam-build: venv-sam
	$(SAM_ENV) sam build --beta-features --template template.yaml

## The pipeline on this machine: PostgreSQL + S3/SQS on loopback, koku-like uploads, ingest, roll-up, report.
demo: deps
	$(MAKE) --no-print-directory -j2 venv build
	demo/run.sh

## Every payload in events/ through the release binaries under `cargo lambda watch`.
lambda-emulation: build
	$(WITH_SERVICES) tests/lambda_emulation/run_events.sh

## Every payload in events/ through `sam local invoke` (Docker) with the release binaries as `bootstrap`.
sam-local: build lambda-base-image
	$(WITH_SERVICES) tests/lambda_emulation/run_events.sh --via sam

## The emulation from a fresh clone of HEAD in a `mktemp -d` directory (mode 0700), reusing the
## release binaries and the virtual environments of this checkout.
fresh-clone-test: build venv venv-sam
	tests/fresh_clone.sh
