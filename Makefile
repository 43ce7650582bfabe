# Keyport: `make run` to serve, `make test` for every suite (what CI runs via .ci/run).
# The scripts install whatever is missing (scripts/ensure-tools.sh) and skip what is there.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
# cargo, rustup and wasm-bindgen live in ~/.cargo/bin even when the login shell lacks it.
export PATH := $(HOME)/.cargo/bin:$(PATH)

# Where `make run` keeps its SQLite database and generated secret.
KEYPORT_DATA_DIR ?= ./data

# The steps depend on each other's output; never run them side by side under -j.
.NOTPARALLEL:
.DEFAULT_GOAL := build
.PHONY: help run build tools test test-unit test-postgres e2e bench bench-usage seed-demo fmt fmt-check clean-data

help:
	@echo 'make run         build, then serve http://127.0.0.1:3000 on SQLite in $(KEYPORT_DATA_DIR)'
	@echo 'make build       release server + browser islands + assets into target/site'
	@echo 'make test        unit + integration (SQLite, then a throwaway PostgreSQL) + end-to-end'
	@echo 'make e2e         build, then only the Chromium specs'
	@echo 'make bench       benchmarks'
	@echo 'make seed-demo   fill $(KEYPORT_DATA_DIR) with demo data (SEED_ARGS=--keys N --events N --days N)'
	@echo 'make fmt         cargo fmt (fmt-check: only check)'
	@echo 'make clean-data  delete $(KEYPORT_DATA_DIR) (the database of make run)'

tools:
	scripts/ensure-tools.sh

build: tools
	scripts/build.sh

# exec: the server replaces the recipe's shell, so Ctrl-C (SIGINT) and SIGTERM reach it
# directly and it shuts down gracefully. It creates the data dir and migrates by itself.
run: build
	exec env KEYPORT_DATA_DIR='$(KEYPORT_DATA_DIR)' LEPTOS_SITE_ROOT=target/site ./target/release/keyport

test:
	scripts/ensure-tools.sh --browser --postgres
	@echo '==> unit + integration tests (SQLite)'
	env -u KEYPORT_TEST_DATABASE_URL cargo test --release --features ssr
	@echo '==> benchmarks still compile (make bench runs them)'
	cargo test --release --features ssr --benches --no-run
	@echo '==> integration tests (PostgreSQL)'
	scripts/with-postgres.sh cargo test --release --features ssr --test integration
	@echo '==> build'
	scripts/build.sh
	@echo '==> end-to-end (Chromium)'
	scripts/e2e.sh

# The pieces of `make test`, one at a time.
test-unit: tools
	env -u KEYPORT_TEST_DATABASE_URL cargo test --release --features ssr

test-postgres: tools
	scripts/ensure-tools.sh --postgres
	scripts/with-postgres.sh cargo test --release --features ssr --test integration

e2e: build
	scripts/ensure-tools.sh --browser
	scripts/e2e.sh

bench: build
	bench/run.sh

# Only the usage-report part of make bench (demo data at scale).
bench-usage: build
	bench/usage.sh

# Demo data at scale in the database of `make run` (keyport seed-demo; a database that has
# demo data already is refused). SEED_ARGS changes the amounts, e.g. SEED_ARGS='--events 100000'.
seed-demo: build
	env KEYPORT_DATA_DIR='$(KEYPORT_DATA_DIR)' ./target/release/keyport seed-demo $(SEED_ARGS)

fmt:
	cargo fmt --all

fmt-check:
	cargo fmt --all -- --check

clean-data:
	rm -rf -- '$(KEYPORT_DATA_DIR)'
