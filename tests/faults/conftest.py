"""Fault tests: each module starts its own system (and breaks it) on its own virtual host,
so leftover queues of one never feed another. ``make test-faults`` runs them; ``make test``
does not (they take minutes). The figures each test measured are printed at the end."""

from __future__ import annotations

import os

import pytest

from services.common.broker import temporary_vhost
from tests.conftest import BASE_AMQP

FIGURES: list[tuple[str, dict]] = []


@pytest.fixture(scope="module")
def own_vhost(request):
    name = f"lifecircle-fault-{request.module.__name__.rsplit('.', 1)[-1]}-{os.getpid()}"
    with temporary_vhost(BASE_AMQP, name) as uri:
        yield uri


@pytest.fixture
def figures(request):
    """``figures["orders sent"] = 200``: printed in the summary, pass or fail."""
    collected: dict = {}
    yield collected
    if collected:
        FIGURES.append((request.node.name, collected))


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("fault test figures")
    for name, values in FIGURES:
        terminalreporter.write_line(name)
        for key, value in values.items():
            terminalreporter.write_line(f"    {key}: {value}")
