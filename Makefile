# The project's commands. `make test` and `make demo` work on a fresh Debian machine as root:
# they install what they need (Debian packages, PyPI tools, crates) and start their own services.
SHELL := /bin/bash
CARGO ?= cargo
WITH_SERVICES := scripts/with-services.sh

.PHONY: test unit build lint fmt demo bench sam-validate sam-build fuzz clean-work

## Builds the release binaries (tests, memory checks and the benchmark all use them).
build:
	$(CARGO) build --release --workspace --bins

## Unit tests of pure logic: no services needed.
unit:
	$(CARGO) test --release --workspace --lib --bins

## Everything: lint, unit tests, and the integration tests against a real PostgreSQL and S3 server.
test: build lint
	$(WITH_SERVICES) $(CARGO) test --release --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean-work:
	rm -rf .work

## Benchmark: ingest vs DuckDB (1 thread) side by side, memory, end to end, roll-up, concurrency.
## Results in bench/results/ (see bench/README.md).
bench: build
	$(WITH_SERVICES) python3 bench/run.py $(BENCH_ARGS)
