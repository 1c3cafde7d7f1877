"""Prometheus alert rules and the Grafana dashboard in deploy/ (no promtool here): they parse,
have the structure Prometheus and Grafana load, cover the alerts the issue asks for, and refer
only to metrics the code defines."""

from __future__ import annotations

import json
import re

import yaml

from tests.deploy.conftest import DEPLOY, metrics_defined_by_the_code

REQUIRED_ALERTS = {
    "LifecircleDeadLetters": "lifecircle.dead-letters",
    "LifecircleOutboxStuck": "lifecircle_outbox_oldest_age_seconds",
    "LifecircleRepairsLate": "lifecircle_repairs_arrived_last_hour",
    "LifecircleHttp5xx": 'status=~"5..',
}
DURATION = re.compile(r"^\d+[smhd]$")


def referenced_metrics(expr: str) -> set[str]:
    return set(re.findall(r"\b(lifecircle_[a-z_]+)\b", expr))


def balanced(expr: str) -> bool:
    depth = 0
    for char in expr:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_the_alert_rules_load_and_cover_what_must_page_someone():
    rules_file = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())
    assert set(rules_file) == {"groups"}
    known = metrics_defined_by_the_code()
    alerts = {}
    for group in rules_file["groups"]:
        assert set(group) <= {"name", "interval", "rules"} and group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert isinstance(rule["expr"], str) and balanced(rule["expr"]), rule["alert"]
            assert DURATION.match(rule.get("for", "0s")), rule["alert"]
            assert rule["labels"]["severity"] in {"page", "ticket"}
            assert rule["annotations"]["summary"]
            unknown = referenced_metrics(rule["expr"]) - known
            assert not unknown, f"{rule['alert']} uses undefined metrics {unknown}"
            alerts[rule["alert"]] = rule
    for name, needle in REQUIRED_ALERTS.items():
        assert needle in alerts[name]["expr"], name
    assert "0.9" in alerts["LifecircleRepairsLate"]["expr"]
    assert "> 60" in alerts["LifecircleOutboxStuck"]["expr"]


def test_prometheus_loads_the_rules_and_scrapes_every_process():
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    names = {n for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", [])
             for n in sd["names"]}
    assert {"gateway", "catalog", "orders", "dispatch", "notify"} <= names


def test_the_dashboard_is_grafana_json_over_metrics_the_code_defines():
    dashboard = json.loads((DEPLOY / "grafana/dashboards/lifecircle.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    known = metrics_defined_by_the_code()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    used = set()
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        for target in panel["targets"]:
            assert balanced(target["expr"])
            used |= referenced_metrics(target["expr"])
    assert not used - known, used - known
    assert {"lifecircle_http_requests_total", "lifecircle_events_total",
            "lifecircle_outbox_oldest_age_seconds", "lifecircle_orders"} <= used
