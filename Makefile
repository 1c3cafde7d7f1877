# Lifecircle. `make run` starts everything on this machine; `make test` runs every test.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-unit test-faults lint bench seed-city broker clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

broker: $(STAMP)
	$(BIN)/python -m services.common.broker ensure

run: $(STAMP) broker
	$(BIN)/python -m services.launcher --demo

test: $(STAMP) broker
	$(BIN)/python -m pytest -q

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check services tests bench

bench: $(STAMP) broker
	$(BIN)/python -m bench.orders_flow

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
