"""The dispatch service in a real nameko container on the real broker: assignment races,
automatic reassignment after a decline or an accept timeout, and SLA alerts, with the
service's clock moved instead of waiting."""

from __future__ import annotations

import os
from datetime import timedelta

import eventlet
import pytest
from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook

from services.common.broker import temporary_vhost
from services.common.config import setting
from services.common.contracts.dispatch import REPAIR_EVENT_TYPES
from services.common.errors import Conflict, InvalidInput
from services.common.events import new_id
from services.dispatch.service import DispatchService
from tests.helpers import unique, wait_for

DISPATCHER = {"sub": "dispatcher-1", "role": "dispatcher"}
HOME = {"lat": 30.5800, "lng": 114.2700}
SEEN: list[dict] = []


class EventCollector:
    """Listens to every dispatch event, as notify would."""

    name = "dispatch_event_collector"


for _type in REPAIR_EVENT_TYPES:
    def _handler(self, payload):
        SEEN.append(payload)

    _handler.__name__ = f"on_{_type}"
    setattr(EventCollector, _handler.__name__, event_handler("dispatch", _type)(_handler))


def north_of(point: dict, metres: float) -> dict:
    return {"lat": point["lat"] + metres / 111_195, "lng": point["lng"]}


def extension(container, attr: str):
    return next(e for e in container.extensions if getattr(e, "attr_name", None) == attr)


class Harness:
    def __init__(self, container):
        self.container = container
        self.clock = extension(container, "clock").clock
        self.store = extension(container, "store").store

    def call(self, method: str, **kwargs):
        with entrypoint_hook(self.container, method) as hook:
            return hook(**kwargs)

    def rpc(self, method: str, **kwargs):
        """A call over the broker, as the gateway makes it: concurrent calls really overlap
        (entrypoint_hook cannot tell two calls of one method apart)."""
        with ServiceRpcProxy("dispatch", self.container.config) as proxy:
            return getattr(proxy, method)(**kwargs)

    def technician(self, metres_away: float, skills=("plumbing",), name=None) -> dict:
        sub = unique("tech")
        return self.call("create_technician", actor=DISPATCHER, technician={
            "sub": sub, "name": name or sub, "skills": list(skills),
            "home": north_of(HOME, metres_away), "travel_mode": "walking",
            "status": "available"})

    def report(self, resident: str, skill: str = "plumbing", location: dict = HOME) -> dict:
        result = self.call("request_repair", actor={"sub": resident, "role": "resident"},
                           idempotency_key=unique("key"),
                           repair={"skill": skill, "description": "the kitchen tap leaks",
                                   "address": "民意街12号", "location": location})
        return result["repair"]

    def repair(self, repair_id: str) -> dict:
        return self.store.repair(repair_id)

    def tech_doc(self, tech_id: str) -> dict:
        return self.store.technicians.find_one({"_id": tech_id})


@pytest.fixture(scope="module")
def amqp_uri():
    """A vhost of this module's own: the session-wide running system (e2e `system` fixture)
    shares the session vhost and would answer our RPCs and eat our events."""
    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-dispatch-{os.getpid()}") as uri:
        yield uri


@pytest.fixture
def make_dispatch(container_factory, service_config):
    def make(**settings) -> Harness:
        config = {**service_config, "DISPATCH_ACCEPT_TIMEOUT_SECONDS": 60, **settings}
        container = container_factory(DispatchService, config)
        container.start()
        return Harness(container)

    return make


@pytest.fixture
def collector(container_factory, service_config):
    SEEN.clear()
    container = container_factory(EventCollector, service_config)
    container.start()
    return SEEN


def events_of(seen: list[dict], repair_id: str, event_type: str) -> list[dict]:
    return [e for e in seen if e["type"] == event_type and e["correlation_id"] == repair_id]


def test_two_dispatchers_assigning_one_repair_at_once_exactly_one_wins(make_dispatch):
    svc = make_dispatch()
    first, second = svc.technician(200), svc.technician(400)
    repair = svc.report(unique("resident"))

    def assign(tech):
        try:
            return svc.rpc("assign", actor=DISPATCHER, repair_id=repair["id"],
                           technician_id=tech["id"])
        except Conflict as exc:
            return exc

    results = [g.wait() for g in [eventlet.spawn(assign, first), eventlet.spawn(assign, second)]]

    conflicts = [r for r in results if isinstance(r, Conflict)]
    wins = [r for r in results if not isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 1
    assert "assigned" in conflicts[0].message
    winner = wins[0]["technician_id"]
    assert svc.repair(repair["id"])["technician_id"] == winner
    loser = second["id"] if winner == first["id"] else first["id"]
    # The losing dispatcher's technician was not left booked for a job they do not have.
    assert svc.tech_doc(loser)["current_repair_id"] is None
    assert svc.tech_doc(winner)["current_repair_id"] == repair["id"]


def test_a_stale_read_cannot_assign_a_repair_someone_else_already_moved(make_dispatch):
    svc = make_dispatch()
    repair = svc.report(unique("resident"))
    stale = svc.repair(repair["id"])
    assert svc.store.move_repair(stale, {"status": "assigned"}, []) is not None
    assert svc.store.move_repair(stale, {"status": "assigned"}, []) is None


def test_one_technician_is_never_booked_for_two_repairs_at_once(make_dispatch):
    svc = make_dispatch()
    tech = svc.technician(200)
    repairs = [svc.report(unique("resident")) for _ in range(2)]

    def assign(repair):
        try:
            return svc.rpc("assign", actor=DISPATCHER, repair_id=repair["id"],
                           technician_id=tech["id"])
        except Conflict as exc:
            return exc

    results = [g.wait() for g in [eventlet.spawn(assign, r) for r in repairs]]

    assert sum(isinstance(r, Conflict) for r in results) == 1
    assigned = [r for r in repairs if svc.repair(r["id"])["status"] == "assigned"]
    assert len(assigned) == 1
    assert svc.tech_doc(tech["id"])["current_repair_id"] == assigned[0]["id"]


# The automatic assigner under each policy the service offers (docs/dispatch.md): "batched"
# matches on its own timer, here every 0.2 s so the tests need not wait for 30.
POLICIES = [pytest.param({}, id="ranking"),
            pytest.param({"DISPATCH_POLICY": "nearest"}, id="nearest"),
            pytest.param({"DISPATCH_POLICY": "batched", "DISPATCH_BATCH_SECONDS": 0.2},
                         id="batched")]


@pytest.mark.parametrize("policy", POLICIES)
def test_a_declined_job_is_automatically_offered_to_the_next_best_technician(make_dispatch,
                                                                            policy):
    svc = make_dispatch(DISPATCH_AUTO_ASSIGN="all", **policy)
    near = svc.technician(150)
    far = svc.technician(900)
    repair = svc.report(unique("resident"))

    wait_for(lambda: svc.repair(repair["id"])["technician_id"] == near["id"],
             what="automatic assignment to the nearest technician")
    svc.call("act", actor={"sub": near["sub"], "role": "technician"},
             repair_id=repair["id"], action="decline", body={"reason": "my van broke down"})

    wait_for(lambda: svc.repair(repair["id"])["technician_id"] == far["id"],
             what="reassignment to the next technician")
    after = svc.repair(repair["id"])
    assert after["status"] == "assigned"
    assert near["id"] in after["declined_technician_ids"]
    assert svc.tech_doc(near["id"])["current_repair_id"] is None


@pytest.mark.parametrize("policy", POLICIES)
def test_a_job_not_accepted_in_time_goes_to_the_next_technician(make_dispatch, policy):
    svc = make_dispatch(DISPATCH_AUTO_ASSIGN="plumbing", **policy)
    slow = svc.technician(150)
    other = svc.technician(900)
    repair = svc.report(unique("resident"))
    wait_for(lambda: svc.repair(repair["id"])["technician_id"] == slow["id"],
             what="automatic assignment")

    svc.call("sweep")  # before the timeout: nothing changes
    assert svc.repair(repair["id"])["technician_id"] == slow["id"]

    svc.clock.offset = timedelta(seconds=61)
    svc.call("sweep")

    wait_for(lambda: svc.repair(repair["id"])["technician_id"] == other["id"],
             what="reassignment after the accept timeout")
    assert svc.tech_doc(slow["id"])["current_repair_id"] is None
    history = [h["note"] for h in svc.repair(repair["id"])["history"]]
    assert "accept timeout" in history


@pytest.mark.parametrize("policy", POLICIES)
def test_automatic_assignment_is_off_unless_configured(make_dispatch, policy):
    svc = make_dispatch(**policy)
    svc.technician(150)
    repair = svc.report(unique("resident"))
    svc.call("sweep")
    svc.call("match")
    assert svc.repair(repair["id"])["status"] == "open"


@pytest.mark.parametrize(("policy", "expected"), [
    ("ranking", {"first": "close", "second": "far"}),
    ("batched", {"first": "far", "second": "close"})])
def test_batched_matching_reaches_two_repairs_in_time_where_one_at_a_time_cannot(
        make_dispatch, policy, expected):
    # "close" (500 m north, walking) is the nearest for both repairs; "far" (600 m south)
    # reaches the first in 10.4 min but the second, 1 km north, only in 27.7.
    svc = make_dispatch(DISPATCH_AUTO_ASSIGN="all", DISPATCH_POLICY=policy,
                        DISPATCH_BATCH_SECONDS=3600)  # rounds only when the test calls one
    techs = {"close": svc.technician(500)["id"], "far": svc.technician(-600)["id"]}
    first = svc.report(unique("resident"))
    if policy == "ranking":
        wait_for(lambda: svc.repair(first["id"])["status"] == "assigned", what="assignment")
    second = svc.report(unique("resident"), location=north_of(HOME, 1000))
    if policy == "batched":
        assert svc.call("match") == 2
    wait_for(lambda: svc.repair(second["id"])["status"] == "assigned", what="assignment")
    got = {name: svc.repair(r["id"])["technician_id"]
           for name, r in (("first", first), ("second", second))}
    assert got == {name: techs[who] for name, who in expected.items()}
    if policy == "batched":
        assert all(svc.repair(r["id"])["eta_minutes"] <= 15 for r in (first, second))


def test_the_service_refuses_to_start_with_an_unknown_policy(make_dispatch):
    with pytest.raises(ValueError, match="unknown dispatch policy"):
        make_dispatch(DISPATCH_POLICY="batched_reposition")


def breached_once(seen: list[dict], repair_id: str, event_type: str) -> dict:
    return events_of(seen, repair_id, event_type)[0]


def test_sla_alerts_are_sent_once_each_as_the_clock_passes_80_percent_and_due(
        make_dispatch, collector, service_config):
    svc = make_dispatch()
    repair = svc.report(unique("resident"))  # plumbing: 15 minutes
    wait_for(lambda: events_of(collector, repair["id"], "repair_requested"),
             what="repair_requested")

    svc.clock.offset = timedelta(minutes=11, seconds=50)  # 79%: fine
    svc.call("sweep")
    svc.clock.offset = timedelta(minutes=12, seconds=1)  # past 80%
    svc.call("sweep")
    svc.call("sweep")
    wait_for(lambda: events_of(collector, repair["id"], "sla_at_risk"), what="sla_at_risk")

    svc.clock.offset = timedelta(minutes=15, seconds=1)
    svc.call("sweep")
    svc.call("sweep")
    wait_for(lambda: events_of(collector, repair["id"], "sla_breached"), what="sla_breached")
    svc.call("sweep")

    # A sweep publishes (confirmed) before it returns, and each event type has one queue: a
    # marker published now arrives after any duplicate the sweeps above could have sent.
    marker_id = "rep_" + "f" * 32
    publish = event_dispatcher(service_config)
    for event_type in ("sla_at_risk", "sla_breached"):
        publish("dispatch", event_type, {**breached_once(collector, repair["id"], event_type),
                                         "id": new_id("evt"), "correlation_id": marker_id})
        wait_for(lambda t=event_type: events_of(collector, marker_id, t), what="the marker")
    assert len(events_of(collector, repair["id"], "sla_at_risk")) == 1
    breached = events_of(collector, repair["id"], "sla_breached")
    assert len(breached) == 1
    assert breached[0]["data"]["status"] == "open"
    assert breached[0]["data"]["resident_id"] == repair["resident_id"]


def test_a_repair_the_technician_reached_in_time_raises_no_alarm(make_dispatch, collector):
    svc = make_dispatch()
    tech = svc.technician(150)
    repair = svc.report(unique("resident"))
    as_tech = {"sub": tech["sub"], "role": "technician"}
    svc.call("assign", actor=DISPATCHER, repair_id=repair["id"], technician_id=tech["id"])
    svc.call("act", actor=as_tech, repair_id=repair["id"], action="accept")
    svc.call("act", actor=as_tech, repair_id=repair["id"], action="arrive")

    svc.clock.offset = timedelta(minutes=20)
    svc.call("sweep")

    [arrived] = wait_for(lambda: events_of(collector, repair["id"], "technician_arrived"),
                         what="technician_arrived")
    assert events_of(collector, repair["id"], "sla_breached") == []
    # notify addresses the technician by the user id they sign in with
    assert arrived["data"]["technician_sub"] == tech["sub"]
    assert arrived["data"]["previous_status"] == "accepted"
    assert svc.tech_doc(tech["id"])["status"] == "on_site"


def test_a_technician_left_booked_by_a_crash_is_freed_by_the_sweep(make_dispatch):
    svc = make_dispatch()
    tech = svc.technician(150)
    repair = svc.report(unique("resident"))
    # The crash: the booking was written, the repair move never was.
    svc.store.claim_technician(tech["id"], repair["id"], svc.clock.now())

    svc.call("sweep")
    assert svc.tech_doc(tech["id"])["current_repair_id"] == repair["id"]  # maybe in flight

    svc.clock.offset = timedelta(seconds=31)
    svc.call("sweep")
    assert svc.tech_doc(tech["id"])["current_repair_id"] is None
    assert svc.repair(repair["id"])["status"] == "open"


def test_a_cancelled_job_frees_its_technician(make_dispatch):
    svc = make_dispatch()
    tech = svc.technician(150)
    resident = unique("resident")
    repair = svc.report(resident)
    svc.call("assign", actor=DISPATCHER, repair_id=repair["id"], technician_id=tech["id"])
    svc.call("act", actor={"sub": tech["sub"], "role": "technician"},
             repair_id=repair["id"], action="accept")
    assert svc.tech_doc(tech["id"])["status"] == "en_route"

    svc.call("act", actor={"sub": resident, "role": "resident"}, repair_id=repair["id"],
             action="cancel", body={"reason": "fixed it myself"})

    freed = svc.tech_doc(tech["id"])
    assert freed["status"] == "available" and freed["current_repair_id"] is None


def test_stats_count_an_arrival_within_the_promise_and_a_breach(make_dispatch):
    svc = make_dispatch()
    tech = svc.technician(150)
    as_tech = {"sub": tech["sub"], "role": "technician"}
    on_time, late = svc.report(unique("resident")), svc.report(unique("resident"))
    svc.call("assign", actor=DISPATCHER, repair_id=on_time["id"], technician_id=tech["id"])
    svc.call("act", actor=as_tech, repair_id=on_time["id"], action="accept")
    svc.clock.offset = timedelta(minutes=6)
    svc.call("act", actor=as_tech, repair_id=on_time["id"], action="arrive")
    svc.clock.offset = timedelta(minutes=20)  # the other one was never reached

    stats = svc.call("stats", actor=DISPATCHER)

    [row] = [r for r in stats["rows"] if r["skill"] == "plumbing"]
    assert row["count"] == 2 and row["arrived"] == 1
    assert row["breaches"] == 1 and row["within_sla"] == 0.5
    assert 5.9 <= row["median_arrival_minutes"] <= 6.1
    board = svc.call("board", actor=DISPATCHER)
    assert [item["id"] for item in board["breached"]] == [late["id"]]


def test_the_cell_search_finds_exactly_who_a_full_scan_would_rank(tmp_path):
    import random
    from datetime import UTC, datetime

    from bench.dispatch import random_point, technician_doc
    from services.common.store import open_database
    from services.dispatch import domain
    from services.dispatch.assignment import rank_nearby
    from services.dispatch.schemas import SKILL_CODES
    from services.dispatch.store import DispatchStore

    rng = random.Random(4)
    now = datetime.now(UTC)
    database = open_database("cells", "", str(tmp_path))
    try:
        store = DispatchStore(database.db)
        store.ensure_indexes()
        everyone = [technician_doc(rng, now) for _ in range(3000)]
        for tech in everyone[::7]:
            tech["current_repair_id"] = "rep_booked"
        store.insert_technicians(everyone)
        for _ in range(40):
            repair = {"_id": "rep", "skill": rng.choice(SKILL_CODES),
                      "location": random_point(rng, 20.0)}
            found, _, _ = rank_nearby(store, repair, now, max_eta_minutes=30.0,
                                      tz="Asia/Shanghai")
            free = [t for t in everyone if not t["current_repair_id"]]
            full = [c for c in domain.rank_candidates(repair, free, now, tz="Asia/Shanghai")
                    if c["eta_minutes"] <= 30.0]
            assert [c["technician_id"] for c in found] == [c["technician_id"] for c in full]
    finally:
        database.close()


def test_the_wrong_code_that_uses_the_last_attempt_locks_once_with_its_event(
        make_dispatch, collector):
    svc = make_dispatch()
    tech = svc.technician(200)
    who = {"sub": tech["sub"], "role": "technician"}
    repair = svc.report(unique("resident"))
    svc.call("assign", actor=DISPATCHER, repair_id=repair["id"], technician_id=tech["id"])
    for action in ("accept", "arrive"):
        svc.call("act", actor=who, repair_id=repair["id"], action=action)
    code = svc.repair(repair["id"])["completion_code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    body = {"code": wrong, "resolution": "x", "parts_used": []}
    for _ in range(4):
        with pytest.raises(InvalidInput):
            svc.call("act", actor=who, repair_id=repair["id"], action="complete", body=body)
    for _ in range(2):
        with pytest.raises(Conflict) as refused:
            svc.call("act", actor=who, repair_id=repair["id"], action="complete", body=body)
        assert refused.value.error_code == "code_locked"
    doc = svc.repair(repair["id"])
    assert doc["code_locked"] is True and doc["code_attempts"] == 5
    assert doc["history"][-1]["note"].startswith("locked after")
    locked = wait_for(lambda: events_of(collector, repair["id"], "completion_code_locked"),
                      what="the completion_code_locked event")
    assert len(locked) == 1 and locked[0]["data"]["status"] == "arrived"
