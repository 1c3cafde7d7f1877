"""Pure dispatch domain logic: ranking technicians, repair lifecycle, SLA and stats.

No I/O here: callers load technicians/repairs, persist the returned field updates and
publish the returned events. Datetimes may be aware or naive; naive ones are treated as
UTC because that is what pymongo returns by default. Local days and shifts are judged in
the city's zone, which callers pass (the CITY_TZ setting). A refusal is raised as a
services.common.refusals subclass that carries its HTTP status and error code.
"""

from __future__ import annotations

import hmac
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from services.common import hours, refusals, scopes
from services.common.geo import TravelModel, haversine_m
from services.common.times import as_utc

# --------------------------------------------------------------------------- travel

# Walking 75 m/min (4.5 km/h) is an unhurried adult pace carrying a toolbox.
# E-bike 250 m/min (15 km/h) is a realistic door-to-door urban average: the legal cap is
# 25 km/h but lights, gates and parking eat the rest. 1.3 is the usual street-network
# detour over straight-line (haversine) distance in dense residential blocks.
TRAVEL_MODES: dict[str, TravelModel] = {
    "walking": TravelModel(75, 1.3),
    "ebike": TravelModel(250, 1.3),
}
DEFAULT_TRAVEL_MODE = "walking"  # missing mode -> assume the slower one, never over-promise
_MODE_LABEL = {"walking": "on foot", "ebike": "by e-bike"}

DEFAULT_SLA_MINUTES = 15
MAX_STATS_DAYS = 92


# --------------------------------------------------------------------------- skills


def sla_minutes_from_skills(skills_doc: dict[str, Any]) -> dict[str, int]:
    """Map skill code -> SLA minutes from the parsed skills.json document."""
    default = int(skills_doc.get("default_sla_minutes", DEFAULT_SLA_MINUTES))
    return {s["code"]: int(s.get("sla_minutes", default)) for s in skills_doc.get("skills", [])}


# --------------------------------------------------------------------------- shifts


def on_shift(shifts: dict[str, list[list[str]]] | None, at: datetime, tz: str) -> bool:
    """True if `at` falls in one of the technician's weekly shift intervals (local time in
    `tz`). Shifts follow the one weekly-hours rule (services/common/hours.py): None means
    no shift plan, always on shift; a missing day means off that day; an interval whose
    close <= open runs past midnight. Naive datetimes are UTC."""
    return hours.is_open(shifts, as_utc(at), tz)


# --------------------------------------------------------------------------- ranking


def _fmt_distance(distance_m: float) -> str:
    return f"{distance_m / 1000:.1f} km" if distance_m >= 1000 else f"{round(distance_m)} m"


def _point(loc: Any) -> tuple[float, float] | None:
    if isinstance(loc, dict) and loc.get("lat") is not None and loc.get("lng") is not None:
        return float(loc["lat"]), float(loc["lng"])
    return None


def _rating(tech: dict[str, Any]) -> float | None:
    # A rating_avg with zero ratings behind it is meaningless; treat it as unrated.
    avg = tech.get("rating_avg")
    if avg is None or (tech.get("rating_count") or 0) <= 0:
        return None
    return float(avg)


def rank_with_exclusions(
    request: dict[str, Any], technicians: list[dict[str, Any]], now: datetime, *, tz: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rank eligible technicians for a request; also return who was excluded and why.

    Eligible = has the skill, status "available", on shift at `now`, has a usable location
    and a known travel mode. "en_route"/"on_site" technicians are busy with another job and
    "offline" ones are not working, so only "available" is ranked.

    Order: ETA minutes rounded to 0.1 (near-equal ETAs tie), then fewer active_jobs, then
    higher rating (unrated counts as 0, i.e. after every rated technician, since ratings
    are 1-5), then str(_id) so the order is deterministic.
    """
    target = _point(request.get("location"))
    if target is None:
        raise ValueError("request.location with lat/lng is required")
    skill = request.get("skill")

    scored: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    excluded: list[dict[str, Any]] = []
    for tech in technicians:
        why: list[str] = []
        if skill not in (tech.get("skills") or []):
            why.append(f"lacks skill {skill}")
        status = tech.get("status")
        if status == "offline":
            why.append("offline")
        elif status in ("en_route", "on_site"):
            why.append(f"busy ({status})")
        elif status != "available":
            why.append(f"unknown status {status!r}")
        try:
            if not on_shift(tech.get("shifts"), now, tz):
                why.append("off shift")
        except (ValueError, TypeError):
            why.append("invalid shifts")
        origin = _point(tech.get("location")) or _point(tech.get("home"))
        if origin is None:
            why.append("no location")
        mode = tech.get("travel_mode") or DEFAULT_TRAVEL_MODE
        if mode not in TRAVEL_MODES:
            # Exclude rather than guess: a wrong ETA would silently mis-rank everyone.
            why.append(f"unknown travel_mode {mode!r}")
        if why or origin is None:
            excluded.append(
                {"technician_id": tech.get("_id"), "name": tech.get("name"), "reasons": why}
            )
            continue

        distance = haversine_m(origin[0], origin[1], target[0], target[1])
        eta = round(TRAVEL_MODES[mode].minutes_for(distance), 1)
        load = int(tech.get("active_jobs") or 0)
        rating = _rating(tech)
        count = int(tech.get("rating_count") or 0)
        reasons = [
            f"ETA {eta:.1f} min {_MODE_LABEL.get(mode, mode)} ({_fmt_distance(distance)})",
            "no active jobs" if load == 0 else f"{load} active job{'s' if load != 1 else ''}",
            f"rating {rating:.1f} ({count})" if rating is not None else "not yet rated",
        ]
        key = (eta, load, -(rating if rating is not None else 0.0), str(tech.get("_id")))
        scored.append(
            (
                key,
                {
                    "technician_id": tech.get("_id"),
                    "name": tech.get("name"),
                    "eta_minutes": eta,
                    "distance_m": round(distance),
                    "travel_mode": mode,
                    "active_jobs": load,
                    "rating_avg": rating,
                    "reasons": reasons,
                },
            )
        )

    scored.sort(key=lambda item: item[0])
    ranked = []
    for rank, (_, row) in enumerate(scored, start=1):
        row["rank"] = rank
        ranked.append(row)
    return ranked, excluded


def rank_candidates(
    request: dict[str, Any], technicians: list[dict[str, Any]], now: datetime, *, tz: str
) -> list[dict[str, Any]]:
    """Ranked eligible technicians (see rank_with_exclusions for rules)."""
    return rank_with_exclusions(request, technicians, now, tz=tz)[0]


def pick_for_auto_assign(
    ranked: list[dict[str, Any]],
    already_busy_ids: set[Any],
    max_eta_minutes: float | None = None,
) -> dict[str, Any] | None:
    """First ranked candidate not in `already_busy_ids` (e.g. assigned earlier in the same
    batch, or who declined/timed out on this repair). Ids compare as strings so ObjectId
    and str mix safely. Optional `max_eta_minutes` refuses candidates too far away, leaving
    the repair for a human dispatcher instead of silently blowing the SLA.
    """
    busy = {str(i) for i in already_busy_ids}
    for cand in ranked:
        if str(cand["technician_id"]) in busy:
            continue
        if max_eta_minutes is not None and cand["eta_minutes"] > max_eta_minutes:
            return None  # ranked by ETA, so everyone after is even further
        return cand
    return None


# --------------------------------------------------------------------------- assignment


@dataclass(frozen=True)
class Policy:
    """The settings the dispatch rules run under (CITY_TZ and the DISPATCH_* settings)."""

    tz: str
    max_eta_minutes: float
    accept_timeout: timedelta
    auto_assign: str  # "" off, "all", or comma-separated skills
    rule: str = "ranking"  # DISPATCH_POLICY: how the automatic assigner chooses (policies.py)
    batch_seconds: float = 30.0  # DISPATCH_BATCH_SECONDS: the batched rule's interval

    def auto_assigns(self, skill: str) -> bool:
        chosen = {s.strip() for s in str(self.auto_assign or "").split(",") if s.strip()}
        return "all" in chosen or skill in chosen

    @property
    def auto_assign_on(self) -> bool:
        return bool(str(self.auto_assign or "").strip())


def assignment_eta(
    repair: dict[str, Any], tech: dict[str, Any], now: datetime, *, tz: str
) -> float:
    """Re-check a dispatcher's pick at the owner: the technician must be free (one job per
    technician) and pass the ranking rules (skill, status, shift, location). Their ETA.
    No ETA limit here: a dispatcher may knowingly send someone far away."""
    if tech.get("current_repair_id"):
        raise TechnicianBusy()
    ranked, excluded = rank_with_exclusions(repair, [tech], now, tz=tz)
    if not ranked:
        reasons = excluded[0]["reasons"]
        raise TechnicianUnavailable(f"the technician cannot take this job: {', '.join(reasons)}",
                                    {"technician_id": reasons})
    return ranked[0]["eta_minutes"]


def booked_for_later(repair: dict[str, Any], now: datetime, max_eta_minutes: float) -> bool:
    """A booking whose arrival window opens later than anyone sent now could take to arrive:
    automatic assignment waits (the sweep retries) instead of tying a technician up early."""
    return as_utc(repair["requested_at"]) - as_utc(now) > timedelta(minutes=max_eta_minutes)


# --------------------------------------------------------------------------- state machine

STATUSES = ("open", "assigned", "accepted", "arrived", "completed", "rated", "cancelled")
ACTIVE_STATUSES = ("open", "assigned", "accepted", "arrived")  # a job still under way
TECH_STATUSES = ("offline", "available", "en_route", "on_site")
SELF_STATUSES = ("offline", "available")  # what technicians set; jobs set en_route / on_site


class DispatchError(refusals.Refusal):
    """Base of the dispatch domain's refusals. Each one is also the common refusal it means
    (Conflict, Forbidden, InvalidInput), so it carries its HTTP status and error code and
    crosses RPC as itself; nobody translates it."""

    def __str__(self) -> str:
        return self.message


class IllegalTransition(DispatchError, refusals.Conflict):
    """409 illegal_transition; details name the current status."""

    code = "illegal_transition"
    action: str | None = None  # known where raised; not carried across RPC

    @classmethod
    def of(cls, current_status: str, action: str, detail: str = "") -> IllegalTransition:
        msg = f"cannot {action} a repair that is {current_status}"
        exc = cls(f"{msg}: {detail}" if detail else msg, {"status": current_status})
        exc.action = action
        return exc

    @property
    def current_status(self) -> str:
        return self.details.get("status", "")


class NotAllowed(DispatchError, refusals.Forbidden):
    """403: this person may not make this move."""


class InvalidInput(DispatchError, refusals.InvalidInput, ValueError):
    """422 validation_error: a move's own input is wrong (details under "_schema")."""

    def __init__(self, message: str, details: dict | None = None, code: str | None = None):
        super().__init__(message, details or {"_schema": [message]}, code)


class TooManyCodes(DispatchError, refusals.Conflict):
    """409 too_many_codes: the resident has issued the most new codes one repair allows."""

    code = "too_many_codes"


class WrongCode(DispatchError, refusals.InvalidInput):
    """422 wrong_code: the completion code the technician typed is not the resident's."""

    code = "wrong_code"

    def __init__(self, message: str, details: dict | None = None, code: str | None = None):
        super().__init__(message, details or {"code": [message]}, code)


class CodeLocked(DispatchError, refusals.Conflict):
    """409 code_locked: too many wrong completion codes; the resident must issue a new one."""

    code = "code_locked"

    def __init__(self, message: str = "too many wrong completion codes: the job is locked "
                                      "until the resident issues a new code",
                 details: dict | None = None, code: str | None = None):
        super().__init__(message, details or {"code": ["locked"]}, code)


class TechnicianBusy(DispatchError, refusals.Conflict):
    """409 technician_busy: booked for another job (one job per technician)."""

    code = "technician_busy"

    def __init__(self, message: str = "the technician is already booked for another job",
                 details: dict | None = None, code: str | None = None):
        super().__init__(message, details or {"technician_id": ["busy"]}, code)


class TechnicianUnavailable(DispatchError, refusals.Conflict):
    """409 technician_unavailable: the ranking rules exclude them (skill, status, shift...)."""

    code = "technician_unavailable"


# Every refusal the domain raises, for registering them to cross RPC as themselves.
REFUSALS = (IllegalTransition, NotAllowed, InvalidInput, WrongCode, CodeLocked, TechnicianBusy,
            TechnicianUnavailable)


class Move(NamedTuple):
    """A repair transition: where it may start, where it ends, who makes it, and what it
    means to that person (the gateway builds its action routes and their summaries from
    this table)."""

    sources: frozenset[str]
    target: str
    by: str  # "technician" (the assigned one), "resident" (the reporter), "assigner", "system"
    says: str


TRANSITIONS: dict[str, Move] = {
    "assign": Move(frozenset({"open"}), "assigned", "assigner", "Send a technician."),
    "accept": Move(frozenset({"assigned"}), "accepted", "technician",
                   "Accept the job (assigned technician)."),
    "decline": Move(frozenset({"assigned"}), "open", "technician",
                    "Hand the job back with a reason (assigned technician)."),
    "accept_timeout": Move(frozenset({"assigned"}), "open", "system",
                           "Nobody accepted in time: the job reopens."),
    "arrive": Move(frozenset({"accepted"}), "arrived", "technician", "You are at the door."),
    "complete": Move(frozenset({"arrived"}), "completed", "technician",
                     "Close the job with the resident's code, a resolution note and parts "
                     "used."),
    "cannot_fix": Move(frozenset({"accepted", "arrived"}), "open", "technician",
                       "You cannot fix it: the job reopens for another technician."),
    "cancel": Move(frozenset({"open", "assigned", "accepted"}), "cancelled", "resident",
                   "Cancel before the technician arrives (resident)."),
    "rate": Move(frozenset({"completed"}), "rated", "resident",
                 "Rate the finished job 1-5 with a comment, once (resident)."),
}
# Moves a person makes on a repair by name (the gateway's /repairs/{id}/<action> routes).
PERSON_MOVES = {action: move for action, move in TRANSITIONS.items()
                if move.by in ("technician", "resident")}
# Technician status while a job is in this repair status.
TECH_STATUS_FOR = {"accepted": "en_route", "arrived": "on_site"}
# Moves after which the technician no longer holds the job.
RELEASING = frozenset({"decline", "accept_timeout", "complete", "cannot_fix", "cancel"})
_TECH_ACTIONS = {a for a, move in TRANSITIONS.items() if move.by == "technician"}
_RESIDENT_ACTIONS = {a for a, move in TRANSITIONS.items() if move.by == "resident"}
_ASSIGNER_ROLES = {"dispatcher", "admin", "system"}  # "system" = the auto-assigner
MAX_COMMENT_CHARS = 500


class _Rng(Protocol):
    def randrange(self, stop: int, /) -> int: ...


def make_completion_code(rng: _Rng) -> str:
    """6-digit code shown to the resident; the technician must enter it to complete.
    Pass secrets.SystemRandom() in production, a seeded random.Random in tests."""
    return f"{rng.randrange(1_000_000):06d}"


def check_move(status: str, action: str) -> None:
    """Refuse (409, naming the status) a move that is unknown or not legal from `status`."""
    if action not in TRANSITIONS or status not in TRANSITIONS[action].sources:
        raise IllegalTransition.of(status, action)


def event_view(repair: dict[str, Any], action: str, updates: dict[str, Any]) -> dict[str, Any]:
    """The repair as a move's event describes it: as it is after the move, but still naming
    the technician who had the job when the move released them, so they can be told."""
    after = {**repair, **updates}
    if action in RELEASING and repair.get("technician_id"):
        after.update(technician_id=repair["technician_id"],
                     technician_name=repair.get("technician_name"),
                     technician_sub=repair.get("technician_sub"))
    return after


def _check_actor(repair: dict[str, Any], action: str, actor: dict[str, Any]) -> None:
    role, actor_id = actor.get("role"), actor.get("id")
    if action in _TECH_ACTIONS:
        assigned = repair.get("technician_id")
        if role != "technician" or assigned is None or str(actor_id) != str(assigned):
            raise NotAllowed(f"only the assigned technician may {action}")
    elif action in _RESIDENT_ACTIONS:
        reporter = repair.get("resident_id")
        if role != "resident" or reporter is None or str(actor_id) != str(reporter):
            raise NotAllowed(f"only the reporting resident may {action}")
    elif action == "assign":
        if role not in _ASSIGNER_ROLES:
            raise NotAllowed("only a dispatcher or admin may assign")
    elif action == "accept_timeout":
        if role != "system":
            raise NotAllowed("accept timeout is raised by the system timer only")


def _reason(kw: dict[str, Any], action: str) -> str:
    reason = str(kw.get("reason") or "").strip()
    if not reason:
        raise InvalidInput(f"{action} requires a reason")
    return reason[:MAX_COMMENT_CHARS]


def transition(
    repair: dict[str, Any], action: str, actor: dict[str, Any], now: datetime, **kw: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Apply `action` to `repair`; return (field updates, domain events).

    Checks run in order: known action and legal from the current status
    (IllegalTransition, 409), then actor (NotAllowed, 403), then input (InvalidInput /
    WrongCode). The updates replace the whole "history" list (old + new entry) so they
    can be $set as-is; persist them with a filter on the current status to stay safe
    against concurrent transitions. Event data carries ISO timestamps (message-safe).

    Keyword args: assign -> technician_id (req), technician_name; decline/cannot_fix ->
    reason (req); accept_timeout -> technician_id (optional stale-timer guard);
    arrive -> technician (their document, for the arrival check); complete -> code (req);
    cancel -> reason; rate -> stars (int 1-5), comment.
    """
    current = repair.get("status", "open")
    check_move(current, action)
    new_status = TRANSITIONS[action].target
    _check_actor(repair, action, actor)

    tech_id = repair.get("technician_id")
    updates: dict[str, Any] = {"status": new_status, "updated_at": now}
    data: dict[str, Any] = {
        "repair_id": str(repair.get("_id")),
        "resident_id": repair.get("resident_id"),
        "technician_id": tech_id,
        "skill": repair.get("skill"),
        "from_status": current,
        "status": new_status,
        "at": as_utc(now).isoformat(),
        "by": {"id": actor.get("id"), "role": actor.get("role")},
    }
    note = ""
    declined = list(repair.get("declined_technician_ids") or [])

    def _unassign() -> None:
        # Remember who gave this job back so auto-assign does not offer it to them again.
        if tech_id is not None and str(tech_id) not in {str(d) for d in declined}:
            declined.append(tech_id)
        # The assignment's own fields go with it.
        updates.update(technician_id=None, technician_name=None, technician_sub=None,
                       eta_minutes=None, accept_by=None, declined_technician_ids=declined)

    if action == "assign":
        new_tech = kw.get("technician_id")
        if new_tech is None:
            raise InvalidInput("assign requires technician_id")
        updates.update(
            technician_id=new_tech,
            technician_name=kw.get("technician_name"),
            assigned_at=now,
            assigned_by=data["by"],
        )
        data.update(technician_id=new_tech, auto=actor.get("role") == "system")
        event_type = "repair_assigned"
        note = f"assigned to {new_tech}"
    elif action == "accept":
        updates["accepted_at"] = now
        event_type = "repair_accepted"
    elif action in ("decline", "accept_timeout"):
        if action == "accept_timeout":
            expected = kw.get("technician_id")
            if expected is not None and str(expected) != str(tech_id):
                # The timer belongs to an earlier assignment; do not unassign the new one.
                raise IllegalTransition.of(current, action, "stale timer for another technician")
            note = "accept timeout"
            data["timeout"] = True
        else:
            note = _reason(kw, action)
            data["timeout"] = False
        _unassign()
        updates["declined_at"] = now
        data["reason"] = note
        event_type = "repair_declined"
    elif action == "arrive":
        # SLA is about the first arrival; a later re-dispatch after cannot_fix keeps it.
        updates["arrived_at"] = repair.get("arrived_at") or now
        updates["arrival_check"] = arrival_check(repair, kw.get("technician"), now)
        event_type = "technician_arrived"
    elif action == "complete":
        if repair.get("code_locked"):
            raise CodeLocked()
        given, expected_code = kw.get("code"), repair.get("completion_code")
        if not isinstance(given, str) or not isinstance(expected_code, str):
            raise WrongCode("completion code required")
        if not hmac.compare_digest(given.strip().encode(), expected_code.encode()):
            raise WrongCode("completion code does not match")
        updates["completed_at"] = now
        event_type = "repair_completed"
    elif action == "cannot_fix":
        note = _reason(kw, action)
        _unassign()
        updates["reopened_at"] = now
        data["reason"] = note
        event_type = "repair_reopened"
    elif action == "cancel":
        note = str(kw.get("reason") or "").strip()[:MAX_COMMENT_CHARS]
        updates["cancelled_at"] = now
        data["reason"] = note
        event_type = "repair_cancelled"  # technician_id in data lets notify tell them
    else:  # rate
        stars = kw.get("stars")
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise InvalidInput("stars must be an integer 1-5")
        comment = kw.get("comment")
        if comment is not None:
            comment = str(comment).strip()
            if len(comment) > MAX_COMMENT_CHARS:
                raise InvalidInput(f"comment longer than {MAX_COMMENT_CHARS} characters")
        updates.update(rating={"stars": stars, "comment": comment or None}, rated_at=now)
        data.update(stars=stars, comment=comment or None)
        event_type = "repair_rated"

    entry = {"status": new_status, "at": now, "by": data["by"], "note": note}
    updates["history"] = [*(repair.get("history") or []), entry]
    return updates, [{"type": event_type, "data": data}]


# --------------------------------------------------------------------------- listing


def repair_scope(who: dict[str, str], technician_id: str | None,
                 status: str | None = None) -> scopes.Scope:
    """The repairs a person lists: dispatchers and admins the active ones (or those of a
    status), a technician the jobs of their own profile, a resident their own reports.
    A technician without a profile (``technician_id`` None) lists nothing: a query on a
    missing technician would match every unassigned repair in the city."""
    role = who["role"]
    if role in ("dispatcher", "admin"):
        scope = scopes.everything() if status else {"status": {"$in": list(ACTIVE_STATUSES)}}
    elif role == "technician":
        scope = scopes.owned_by("technician_id", technician_id)
    elif role == "resident":
        scope = scopes.owned_by("resident_id", who["sub"])
    else:
        raise refusals.Forbidden("repairs are for residents, technicians and dispatchers")
    return scopes.narrowed(scope, status=status)


# --------------------------------------------------------------------------- completion code

# Wrong codes a job takes before it locks: a 6-digit code then has a 5 in 1,000,000 chance
# of being guessed, where an unbounded number of tries would find it.
MAX_CODE_ATTEMPTS = 5
CODE_LOCKED_REASON = f"{MAX_CODE_ATTEMPTS} wrong completion codes"
NEW_CODE_STATUSES = frozenset(ACTIVE_STATUSES)
MAX_NEW_CODES = 10  # per repair: each one is a history entry, so the document stays bounded


def check_code_attempt(repair: dict[str, Any], actor: dict[str, Any]) -> None:
    """Before a completion code is even compared: the move must be legal now and this
    person's, and the job not locked. Each attempt that passes takes one of the code's
    MAX_CODE_ATTEMPTS (the store counts them in one guarded write)."""
    check_move(repair.get("status", "open"), "complete")
    _check_actor(repair, "complete", actor)
    if repair.get("code_locked") or (repair.get("code_attempts") or 0) >= MAX_CODE_ATTEMPTS:
        raise CodeLocked()


def attempts_left(repair: dict[str, Any]) -> int:
    return max(0, MAX_CODE_ATTEMPTS - (repair.get("code_attempts") or 0))


def should_lock(repair: dict[str, Any]) -> bool:
    """Every attempt at this code is used up on a job still waiting for it, not yet locked."""
    return (repair.get("status") == "arrived" and not repair.get("code_locked")
            and attempts_left(repair) == 0)


def wrong_code(repair: dict[str, Any]) -> WrongCode:
    """The refusal for a wrong code, saying how many tries are left (``repair`` as the
    attempt counted it)."""
    left = attempts_left(repair)
    return WrongCode(f"completion code does not match; {left} "
                     f"attempt{'s' if left != 1 else ''} left before the job locks",
                     {"code": ["does not match"], "attempts_left": [str(left)]})


def new_code_updates(repair: dict[str, Any], actor: dict[str, Any], code: str,
                     now: datetime) -> dict[str, Any]:
    """The reporting resident replaces the completion code (say it was seen, or the job
    locked): a fresh code with a fresh count of attempts, which unlocks the job."""
    status = repair.get("status", "open")
    if status not in NEW_CODE_STATUSES:
        raise IllegalTransition.of(status, "issue a new code for")
    reporter = repair.get("resident_id")
    if actor.get("role") != "resident" or reporter is None or actor.get("id") != reporter:
        raise NotAllowed("only the reporting resident may issue a new code")
    issued = repair.get("codes_issued", 0)
    if issued >= MAX_NEW_CODES:
        raise TooManyCodes(f"at most {MAX_NEW_CODES} new codes per repair; please call the "
                           "dispatcher", {"codes_issued": [str(issued)]})
    entry = {"status": status, "at": now, "by": {"id": actor["id"], "role": "resident"},
             "note": "new completion code"}
    return {"completion_code": code, "code_attempts": 0, "code_locked": False,
            "code_locked_at": None, "updated_at": now, "codes_issued": issued + 1,
            "history": [*(repair.get("history") or []), entry]}


def lock_updates(repair: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The job locks: the technician can no longer complete it until a new code."""
    entry = {"status": repair.get("status"), "at": now, "by": {"id": "system", "role": "system"},
             "note": f"locked after {CODE_LOCKED_REASON}"}
    return {"code_locked": True, "code_locked_at": now, "updated_at": now,
            "history": [*(repair.get("history") or []), entry]}


# --------------------------------------------------------------------------- arrival check


def arrival_check(repair: dict[str, Any], technician: dict[str, Any] | None,
                  now: datetime) -> dict[str, Any]:
    """What the dispatcher sees when "arrived" is pressed: the technician's last reported
    location, when it was reported, and its straight-line distance from the job's address
    (all None when the technician never reported one)."""
    where = _point((technician or {}).get("location"))
    target = _point(repair.get("location"))
    distance = (round(haversine_m(where[0], where[1], target[0], target[1]))
                if where and target else None)
    return {"at": now,
            "location": {"lat": where[0], "lng": where[1]} if where else None,
            "location_at": (technician or {}).get("location_at") if where else None,
            "distance_m": distance}


# --------------------------------------------------------------------------- SLA


def due_by(
    requested_at: datetime,
    skill: str,
    sla_minutes_by_skill: dict[str, int],
    default: int = DEFAULT_SLA_MINUTES,
) -> datetime:
    """Arrival deadline for a request of `skill` (unknown skill -> `default` minutes)."""
    return requested_at + timedelta(minutes=sla_minutes_by_skill.get(skill, default))


def _window(repair: dict[str, Any]) -> tuple[datetime, datetime]:
    start = as_utc(repair["requested_at"])
    end = repair.get("due_by")
    if end is None:
        return start, start + timedelta(minutes=DEFAULT_SLA_MINUTES)
    return start, as_utc(end)


def sla_state(repair: dict[str, Any], now: datetime) -> str:
    """ "met"/"missed" once arrived (vs due_by, inclusive); before arrival "breached" when
    strictly past due_by, "at_risk" from 80% of the window, else "ok". A repair cancelled
    before arrival is judged as of its cancellation time so it stops ageing.
    """
    start, end = _window(repair)
    arrived = repair.get("arrived_at")
    if arrived is not None:
        return "met" if as_utc(arrived) <= end else "missed"
    at = as_utc(now)
    if repair.get("status") == "cancelled" and repair.get("cancelled_at") is not None:
        at = as_utc(repair["cancelled_at"])
    if at > end:
        return "breached"
    # Integer timedelta arithmetic: exactly 80% must count as at risk, no float fuzz.
    if (at - start) * 5 >= (end - start) * 4:
        return "at_risk"
    return "ok"


def sla_events_due(repair: dict[str, Any], now: datetime) -> list[str]:
    """SLA alerts to emit now, given flags already recorded on the repair.

    Idempotent for a polling timer: the caller sets `sla_at_risk_sent` /
    `sla_breached_sent` (see sla_flag_updates) after publishing. If a breach is found
    before any at-risk alert went out, only "sla_breached" is emitted (the warning is moot).
    Nothing is emitted for repairs that already arrived or are closed.
    """
    if repair.get("arrived_at") is not None or repair.get("status") in (
        "completed",
        "rated",
        "cancelled",
    ):
        return []
    state = sla_state(repair, now)
    if state == "breached" and not repair.get("sla_breached_sent"):
        return ["sla_breached"]
    if state == "at_risk" and not repair.get("sla_at_risk_sent"):
        return ["sla_at_risk"]
    return []


def sla_flag_updates(events: list[str]) -> dict[str, bool]:
    """Field updates recording that `events` were emitted (breach implies at-risk)."""
    updates: dict[str, bool] = {}
    if "sla_breached" in events:
        updates.update(sla_breached_sent=True, sla_at_risk_sent=True)
    if "sla_at_risk" in events:
        updates["sla_at_risk_sent"] = True
    return updates


# --------------------------------------------------------------------------- stats


def daily_stats(
    repairs: list[dict[str, Any]], *, tz: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per local day (of requested_at) and skill, sorted by day then skill.

    - count: repairs requested; arrived: repairs with an arrival.
    - breaches: arrived late, or never arrived and breached (past due_by as of `now`, or as
      of cancellation, or flagged sla_breached_sent when no `now` is given).
    - within_sla: on-time arrivals / (arrivals + unarrived breaches); None if no such repair
      (open repairs still inside their window are not judged yet).
    - median_arrival_minutes: median of arrived_at - requested_at, 0.1 min; None if none.
    """
    zone = ZoneInfo(tz)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in repairs:
        day = as_utc(r["requested_at"]).astimezone(zone).date().isoformat()
        groups[(day, r.get("skill") or "")].append(r)

    out = []
    for (day, skill), rows in sorted(groups.items()):
        arrived_minutes: list[float] = []
        on_time = judged = 0
        for r in rows:
            if r.get("arrived_at") is not None:
                start, _ = _window(r)
                arrived_minutes.append((as_utc(r["arrived_at"]) - start).total_seconds() / 60)
                judged += 1
                on_time += sla_state(r, start) == "met"
                continue
            # Without `now`, open repairs can only be judged by the timer's breach flag.
            as_of = now if now is not None else _window(r)[0]
            judged += bool(r.get("sla_breached_sent")) or sla_state(r, as_of) == "breached"
        out.append(
            {
                "day": day,
                "skill": skill,
                "count": len(rows),
                "arrived": len(arrived_minutes),
                "within_sla": round(on_time / judged, 4) if judged else None,
                "median_arrival_minutes": (
                    round(statistics.median(arrived_minutes), 1) if arrived_minutes else None
                ),
                "breaches": judged - on_time,
            }
        )
    return out


def stats_window(
    first: date | None, last: date | None, now: datetime, *, tz: str
) -> tuple[date, date, datetime, datetime]:
    """The local days a stats report covers: `last` defaults to today, `first` to six days
    before it; at most MAX_STATS_DAYS days, `first` not after `last`. Also the instants the
    first day starts and the day after the last one starts (local midnights)."""
    zone = ZoneInfo(tz)
    last = last or as_utc(now).astimezone(zone).date()
    first = first or last - timedelta(days=6)
    if first > last or (last - first).days >= MAX_STATS_DAYS:
        raise InvalidInput(f"from must be on or before to, at most {MAX_STATS_DAYS} days",
                           {"from": ["bad range"]})
    return (first, last, datetime.combine(first, time(0), zone),
            datetime.combine(last + timedelta(days=1), time(0), zone))
