"""The broker helper: which temporary virtual hosts are left over by processes that are gone."""

from services.common.broker import stale_vhosts


def test_only_temporary_vhosts_of_dead_processes_are_stale():
    names = ["/", "lifecircle-test-100", "lifecircle-e2e-200", "lifecircle-web-100",
             "production", "lifecircle-test-abc", "lc-repro-300", "lifecircle-test-200-x"]
    alive = {100}.__contains__
    assert stale_vhosts(names, alive) == ["lifecircle-e2e-200"]
