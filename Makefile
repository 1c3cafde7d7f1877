# Lifecircle. `make run` starts everything on this machine; `make test` runs every test but the
# slow fault tests in tests/faults, which `make test-faults` runs (docs/reliability.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-unit test-faults lint bench seed-city bench-near broker clean simulate

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
	$(BIN)/python -m pytest -q --ignore=tests/faults

test-faults: $(STAMP) broker
	$(BIN)/python -m pytest -q tests/faults

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check services tests bench sim

# BENCH_BEFORE: the commit the reservation figures are compared with (products that listed
# their open reservations). BENCH_SECONDS: each sustained saga load (the goal says 60).
BENCH_BEFORE  ?= cc494c1
BENCH_SECONDS ?= 60
bench: $(STAMP) broker
	$(BIN)/python -m bench.orders_flow
	$(BIN)/python -m bench.reservations --before $(BENCH_BEFORE)
	$(BIN)/python -m bench.saga_flow --seconds $(BENCH_SECONDS)

# A synthetic city straight into the catalog store (stop `make run` first: the store is locked).
seed-city: $(STAMP)
	$(BIN)/python -m services.catalog.seed_city --merchants $(or $(N),100000)

bench-near: $(STAMP) broker
	$(BIN)/python -m bench.near_me --http

# A simulated day in Jianghan for every dispatch policy and fleet size (docs/simulation.md).
# SIM_ARGS="--seed 7 --fleet 350,400" picks the day and the fleets; output in sim-out/.
SIM_ARGS ?= --seed 7 --fleet 300,350,375,400,425,450
simulate: $(STAMP)
	$(BIN)/python -m sim $(SIM_ARGS) --out sim-out

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
