"""Dispatch service: technicians, repair requests, assignment and the arrival promise (SLA).

Entrypoints only: each checks who is asking, validates the payload and hands the work to
technicians.py, repairs.py or assignment.py (plain functions over the store and publisher).
"""

from __future__ import annotations

from datetime import timedelta

from nameko.exceptions import deserialize_to_instance
from nameko.rpc import rpc

from services.common.config import setting
from services.common.errors import BadRequest, NotFound, load_or_raise
from services.common.events import load_event
from services.common.messaging import event_handler
from services.common.metrics import ServiceMetrics
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider, open_database
from services.common.timers import timer_every
from services.dispatch import assignment, domain, policies, records, repairs, schemas, technicians
from services.dispatch.metrics import repair_gauges
from services.dispatch.store import DispatchStore

# The domain's own refusals cross RPC as themselves (the gateway registers them too).
for _refusal in domain.REFUSALS:
    deserialize_to_instance(_refusal)

# Timer intervals are fixed when the class is defined, so this one is read at import.


class DispatchStoreProvider(StoreProvider):
    def setup(self) -> None:
        config = self.container.config
        self.database = open_database(
            self.db_name, setting(config, "MONGO_URL"), setting(config, "DATA_DIR"),
            setting(config, "MONGO_DB_PREFIX"))
        # A mistyped DISPATCH_POLICY stops the service at start, not at the first repair.
        policies.check_policy(setting(config, "DISPATCH_POLICY"), policies.SERVICE_POLICIES)
        self.store = DispatchStore(self.database.db, cache=setting(config, "DISPATCH_TECH_CACHE"))
        self.store.ensure_indexes()


class DispatchService(ServiceBase):
    name = "dispatch"
    store = DispatchStoreProvider(DispatchStore, "dispatch")
    metrics = ServiceMetrics(repair_gauges)

    def _policy(self) -> domain.Policy:
        return domain.Policy(
            tz=setting(self.config, "CITY_TZ"),
            max_eta_minutes=setting(self.config, "DISPATCH_MAX_ETA_MINUTES"),
            accept_timeout=timedelta(
                seconds=setting(self.config, "DISPATCH_ACCEPT_TIMEOUT_SECONDS")),
            auto_assign=setting(self.config, "DISPATCH_AUTO_ASSIGN"),
            rule=setting(self.config, "DISPATCH_POLICY"),
            batch_seconds=setting(self.config, "DISPATCH_BATCH_SECONDS"))

    # ------------------------------------------------------------ technicians

    @rpc
    def create_technician(self, actor: dict, technician: dict) -> dict:
        technicians.require_role(actor_of(actor), "dispatcher")
        data = load_or_raise(schemas.TechnicianCreateSchema(), technician)
        return technicians.create(self.store, data, self.clock.now())

    @rpc
    def update_technician(self, actor: dict, technician_id: str, changes: dict) -> dict:
        technicians.require_role(actor_of(actor), "dispatcher")
        data = load_or_raise(schemas.TechnicianUpdateSchema(), changes)
        return technicians.update(self.store, technician_id, data, self.clock.now())

    @rpc
    def list_technicians(self, actor: dict, page: int = 1, page_size: int = 20,
                         status: str | None = None, skill: str | None = None) -> dict:
        """The dispatcher's roster: who is available, en route or on site, by name."""
        technicians.require_role(actor_of(actor), "dispatcher", "admin")
        return technicians.roster(self.store, page, page_size, status, skill)

    @rpc
    def get_technician(self, actor: dict, technician_id: str) -> dict:
        return technicians.visible(self.store, actor_of(actor), technician_id)

    @rpc
    def my_technician(self, actor: dict) -> dict:
        return records.public_technician(technicians.me(self.store, actor_of(actor)))

    @rpc
    def set_my_location(self, actor: dict, location: dict) -> dict:
        who = actor_of(actor)
        point = load_or_raise(schemas.LocationSchema(), location)
        return technicians.set_location(self.store, who, point, self.clock.now())

    @rpc
    def set_my_status(self, actor: dict, status: dict) -> dict:
        who = actor_of(actor)
        data = load_or_raise(schemas.TechnicianStatusSchema(), status)
        return technicians.set_status(self.store, who, data["status"], self.clock.now())

    # ------------------------------------------------------------ repairs

    @rpc
    def request_repair(self, actor: dict, idempotency_key: str, repair: dict) -> dict:
        """Open a repair request. The same key and body returns the same repair."""
        who = actor_of(actor)
        repairs.check_reporter(who, idempotency_key)
        data = load_or_raise(schemas.RepairCreateSchema(), repair)
        return repairs.report(self.store, self.publish, who, idempotency_key, data,
                              self.clock.now())

    @rpc
    def get_repair(self, actor: dict, repair_id: str) -> dict:
        who = actor_of(actor)
        return records.public_repair(repairs.visible(self.store, who, repair_id), who,
                                     self.clock.now())

    @rpc
    def list_repairs(self, actor: dict, page: int = 1, page_size: int = 20,
                     status: str | None = None) -> dict:
        return repairs.list_for(self.store, actor_of(actor), page, page_size, status,
                                self.clock.now())

    @rpc
    def candidates(self, actor: dict, repair_id: str) -> dict:
        technicians.require_role(actor_of(actor), "dispatcher")
        repair = self.store.repair(repair_id)
        if repair is None:
            raise NotFound("no such repair")
        return assignment.candidates(self.store, repair, self.clock.now(), self._policy())

    @rpc
    def assign(self, actor: dict, repair_id: str, technician_id: str) -> dict:
        who = actor_of(actor)
        technicians.require_role(who, "dispatcher")
        moved = repairs.assign(self.store, self.publish, who, repair_id, technician_id,
                               self.clock.now(), self._policy())
        return records.public_repair(moved, who, self.clock.now())

    @rpc
    def act(self, actor: dict, repair_id: str, action: str, body: dict | None = None) -> dict:
        """accept, decline, arrive, complete, cannot_fix (technician); cancel, rate
        (resident): domain.PERSON_MOVES."""
        who = actor_of(actor)
        if action not in domain.PERSON_MOVES:
            raise BadRequest(f"unknown action {action!r}")
        schema = schemas.MOVE_SCHEMAS.get(action)
        data = load_or_raise(schema(), body or {}) if schema else {}
        moved = repairs.act(self.store, self.publish, who, repair_id, action, data,
                            self.clock.now())
        return records.public_repair(moved, who, self.clock.now())

    @rpc
    def new_completion_code(self, actor: dict, repair_id: str) -> dict:
        """The reporting resident replaces the completion code; a new code unlocks a job
        locked by too many wrong codes."""
        who = actor_of(actor)
        moved = repairs.new_code(self.store, who, repair_id, self.clock.now())
        return records.public_repair(moved, who, self.clock.now())

    # ------------------------------------------------------------ board and stats

    @rpc
    def board(self, actor: dict) -> dict:
        technicians.require_role(actor_of(actor), "dispatcher")
        return repairs.board(self.store, self.clock.now())

    @rpc
    def stats(self, actor: dict, from_: str | None = None, to: str | None = None) -> dict:
        technicians.require_role(actor_of(actor), "dispatcher")
        args = load_or_raise(schemas.StatsArgs(), {
            k: v for k, v in (("from", from_), ("to", to)) if v is not None})
        return repairs.stats(self.store, args, self.clock.now(), setting(self.config, "CITY_TZ"))

    # ------------------------------------------------------------ automatic assignment

    @event_handler("dispatch", "repair_requested")
    def on_repair_requested(self, payload: dict) -> None:
        self._auto_assign(load_event(payload, "repair_requested"))

    @event_handler("dispatch", "repair_declined")
    def on_repair_declined(self, payload: dict) -> None:
        self._auto_assign(load_event(payload, "repair_declined"))

    @event_handler("dispatch", "repair_reopened")
    def on_repair_reopened(self, payload: dict) -> None:
        self._auto_assign(load_event(payload, "repair_reopened"))

    def _auto_assign(self, event: dict) -> None:
        assignment.auto_assign(self.store, self.publish, event["data"]["repair_id"],
                               self.clock.now(), self._policy(), event["id"])

    # ------------------------------------------------------------ timers

    @timer_every("DISPATCH_TIMER_SECONDS")
    def sweep(self) -> dict[str, int]:
        """Accept timeouts, SLA alerts, automatic assignment of repairs still open, and
        bookings a crash left behind."""
        return {
            "timeouts": repairs.expire_unaccepted(self.store, self.publish, self.clock.now()),
            "sla_events": repairs.check_sla(self.store, self.publish, self.clock.now()),
            "auto_assigned": assignment.assign_waiting(self.store, self.publish,
                                                       self.clock.now(), self._policy()),
            "freed": repairs.free_stray_bookings(self.store, self.clock.now()),
        }

    @timer_every("DISPATCH_BATCH_SECONDS")
    def match(self) -> int:
        """The batched policy's round: every open repair matched at once (DISPATCH_POLICY)."""
        return assignment.assign_batch(self.store, self.publish, self.clock.now(), self._policy())
