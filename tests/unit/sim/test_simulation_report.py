"""The report a district reads: tables, plots and the same figures for the same seed."""

from __future__ import annotations

import json

from sim.experiment import Setup, run, write
from sim.report import gini


def test_a_run_writes_the_table_the_plots_and_the_json(tmp_path):
    setup = Setup(seed=4, city_seed=3, repairs=150, orders=80, fleets=[25, 50],
                  policies=["ranking", "batched"], history_days=1, homes=1500, shops=60)
    results = run(setup, progress=False)
    path = write(results, tmp_path, "python -m sim --test")
    text = path.read_text()
    assert "| ranking | 25 |" in text and "| batched | 50 |" in text
    for png in ("arrival_distribution", "share_by_hour", "breaches_map", "fleet_curve"):
        assert (tmp_path / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
        assert f"({png}.png)" in text
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["runs"]["ranking"]["50"]["requests"] == results["runs"]["ranking"][50]["requests"]
    assert data["deliveries"]["orders"] > 0
    assert data["deliveries"]["door_to_door_p50"] > 0


def test_gini_is_zero_for_equal_shares_and_grows_with_inequality():
    assert gini([3, 3, 3]) == 0
    assert gini([0, 0, 9]) > gini([1, 2, 6]) > 0
