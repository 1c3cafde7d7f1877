"""What the deployment files are checked against: the settings the code reads and the metrics
it defines. Nothing here needs Docker or a cluster."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APP_SERVICES = ("catalog", "orders", "dispatch", "notify")

# Set by each deployment where it is needed, not a setting an operator chooses.
NOT_SETTINGS = {"PROMETHEUS_MULTIPROC_DIR"}
ENV_READ = re.compile(r"""(?:environ\.get|\benv)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def settings_read_by_the_code() -> set[str]:
    """Every environment variable a Lifecircle process reads: the DEFAULTS tables (under their
    environment names) and every direct read in services/."""
    from services.common.config import DEFAULTS, ENV_NAMES

    names = {ENV_NAMES.get(key, key) for key in DEFAULTS}
    for path in (ROOT / "services").rglob("*.py"):
        names |= set(ENV_READ.findall(path.read_text(encoding="utf-8")))
    return names - NOT_SETTINGS


def metrics_defined_by_the_code() -> set[str]:
    """Metric names the code exports (with the suffixes Prometheus adds)."""
    names: set[str] = set()
    for path in (ROOT / "services").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for kind, name in re.findall(r'\b(Counter|Histogram|Gauge)\(\s*"(lifecircle_\w+)"', text):
            names.add(name)
            if kind == "Histogram":
                names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
        names |= set(re.findall(r'"(lifecircle_[a-z_]+)": \(', text))  # store gauges
    return names


@pytest.fixture(scope="session")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
