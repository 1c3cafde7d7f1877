# Lifecircle. `make run` starts everything on this machine; `make test` runs every test but the
# slow fault tests in tests/faults, which `make test-faults` runs (docs/reliability.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-unit test-faults lint bench seed-city bench-near broker clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

broker: $(STAMP)
	$(BIN)/python -m services.common.broker ensure

run: $(STAMP) broker
	$(BIN)/python -m services.launcher --demo

# The browser journeys run in a pytest of their own: Playwright must not run under eventlet.
test: $(STAMP) broker
	$(BIN)/python -m pytest -q --ignore=tests/faults --ignore=tests/browser
	LIFECIRCLE_TEST_GREEN=0 $(BIN)/python -m pytest -q --suppress-nameko-eventlet-notification tests/browser

test-faults: $(STAMP) broker
	$(BIN)/python -m pytest -q tests/faults

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check services tests bench

bench: $(STAMP) broker
	$(BIN)/python -m bench.orders_flow

# A synthetic city straight into the catalog store (stop `make run` first: the store is locked).
seed-city: $(STAMP)
	$(BIN)/python -m services.catalog.seed_city --merchants $(or $(N),100000)

bench-near: $(STAMP) broker
	$(BIN)/python -m bench.near_me --http

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
