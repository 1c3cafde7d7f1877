"""Shedding orders at the gateway by how long accepted orders wait for the saga's answer."""

from __future__ import annotations

import pytest

from services.gateway.backlog import Backlog
from services.gateway.errors import ApiError


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def listening(max_age=2.0):
    clock = Clock()
    backlog = Backlog(max_age, clock=clock)
    backlog.set_listening(True)
    return backlog, clock


def test_new_orders_are_refused_while_an_accepted_one_waits_longer_than_the_bound():
    backlog, clock = listening()
    backlog.accepted("ord_1")
    clock.now += 2.5
    with pytest.raises(ApiError) as refused:
        backlog.check()
    assert refused.value.status == 503 and refused.value.code == "overloaded"
    assert int(refused.value.headers["Retry-After"]) >= 1
    backlog.answered("ord_1")
    backlog.check()  # answered: orders are taken again


def test_orders_answered_in_time_are_never_refused():
    backlog, clock = listening()
    for n in range(100):
        backlog.accepted(f"ord_{n}")
        clock.now += 0.05
        backlog.answered(f"ord_{n}")
        backlog.check()


def test_an_answer_that_overtakes_the_202_does_not_leave_the_order_waiting():
    backlog, clock = listening()
    backlog.answered("ord_fast")
    backlog.accepted("ord_fast")
    clock.now += 10
    backlog.check()


def test_a_queue_that_would_take_too_long_is_refused_before_anyone_waited_that_long():
    backlog, clock = listening()
    for n in range(10):  # the saga answers one order every 0.5 s while busy
        backlog.accepted(f"slow_{n}")
    for n in range(10):
        clock.now += 0.5
        backlog.answered(f"slow_{n}")
    for n in range(6):
        backlog.accepted(f"new_{n}")
    clock.now += 0.1  # nobody has waited long yet, but six ahead take ~3 s
    with pytest.raises(ApiError):
        backlog.check()


def test_a_quiet_shop_does_not_look_slow():
    backlog, clock = listening()
    for n in range(20):  # one order a minute, each answered in 50 ms
        clock.now += 60
        backlog.accepted(f"ord_{n}")
        clock.now += 0.05
        backlog.answered(f"ord_{n}")
    for n in range(5):
        backlog.accepted(f"burst_{n}")
    backlog.check()


def test_nothing_is_refused_while_answers_cannot_be_heard():
    backlog, clock = listening()
    backlog.accepted("ord_1")
    backlog.set_listening(False)
    clock.now += 30
    backlog.check()


def test_an_answer_never_heard_stops_refusing_orders_after_a_while():
    backlog, clock = listening()
    backlog.accepted("ord_lost")
    clock.now += 61
    backlog.check()
