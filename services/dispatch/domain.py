"""Pure dispatch domain logic: ranking technicians, repair lifecycle, SLA and stats.

No I/O here: callers load technicians/repairs, persist the returned field updates and
publish the returned events. Datetimes may be aware or naive; naive ones are treated as
UTC because that is what pymongo returns by default.
"""

from __future__ import annotations

import hmac
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from services.common.geo import TravelModel, haversine_m

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
DEFAULT_TZ = "Asia/Shanghai"


def _utc(dt: datetime) -> datetime:
    """Normalise to aware UTC so naive (pymongo) and aware datetimes compare safely."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# --------------------------------------------------------------------------- skills


def sla_minutes_from_skills(skills_doc: dict[str, Any]) -> dict[str, int]:
    """Map skill code -> SLA minutes from the parsed skills.json document."""
    default = int(skills_doc.get("default_sla_minutes", DEFAULT_SLA_MINUTES))
    return {s["code"]: int(s.get("sla_minutes", default)) for s in skills_doc.get("skills", [])}


# --------------------------------------------------------------------------- shifts

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(hhmm: str, *, allow_24: bool) -> int:
    hh, sep, mm = hhmm.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(f"bad time {hhmm!r}, expected HH:MM")
    value = int(hh) * 60 + int(mm)
    if int(mm) > 59 or value > 1440 or (value == 1440 and not allow_24):
        raise ValueError(f"bad time {hhmm!r}")
    return value


def on_shift(
    shifts: dict[str, list[list[str]]] | None, at_utc: datetime, tz: str = DEFAULT_TZ
) -> bool:
    """True if `at_utc` falls in one of the weekly shift intervals (local time in `tz`).

    Same format as merchant opening hours: {"mon": [["08:00", "20:00"]], ...}. An interval
    whose close <= open runs past midnight into the next day (so ["08:00", "08:00"] is 24h).
    None means no shift plan = always on shift; a missing day key means off that day.
    """
    if shifts is None:
        return True
    local = _utc(at_utc).astimezone(ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    today = _DAYS[local.weekday()]
    yesterday = _DAYS[(local.weekday() - 1) % 7]
    for open_s, close_s in shifts.get(today, []):
        start, end = _minutes(open_s, allow_24=False), _minutes(close_s, allow_24=True)
        if end > start:
            if start <= minute < end:
                return True
        elif minute >= start:  # overnight interval, today's part
            return True
    # Yesterday's overnight intervals spill into the small hours of today.
    for open_s, close_s in shifts.get(yesterday, []):
        start, end = _minutes(open_s, allow_24=False), _minutes(close_s, allow_24=True)
        if end <= start and minute < end:
            return True
    return False


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
    request: dict[str, Any], technicians: list[dict[str, Any]], now: datetime
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
            if not on_shift(tech.get("shifts"), now):
                why.append("off shift")
        except (ValueError, TypeError, AttributeError):
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
    request: dict[str, Any], technicians: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """Ranked eligible technicians (see rank_with_exclusions for rules)."""
    return rank_with_exclusions(request, technicians, now)[0]


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


# --------------------------------------------------------------------------- state machine

STATUSES = ("open", "assigned", "accepted", "arrived", "completed", "rated", "cancelled")


class DispatchError(Exception):
    """Base for domain errors; http_status is a hint for the gateway."""

    http_status = 400


class IllegalTransition(DispatchError):
    http_status = 409

    def __init__(self, current_status: str, action: str, detail: str = "") -> None:
        self.current_status = current_status
        self.action = action
        msg = f"cannot {action} a repair that is {current_status}"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class NotAllowed(DispatchError):
    http_status = 403


class WrongCode(DispatchError):
    http_status = 422


class InvalidInput(DispatchError, ValueError):
    http_status = 422


# action -> (statuses it may start from, resulting status)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "assign": (frozenset({"open"}), "assigned"),
    "accept": (frozenset({"assigned"}), "accepted"),
    "decline": (frozenset({"assigned"}), "open"),
    "accept_timeout": (frozenset({"assigned"}), "open"),
    "arrive": (frozenset({"accepted"}), "arrived"),
    "complete": (frozenset({"arrived"}), "completed"),
    "cannot_fix": (frozenset({"accepted", "arrived"}), "open"),
    "cancel": (frozenset({"open", "assigned", "accepted"}), "cancelled"),
    "rate": (frozenset({"completed"}), "rated"),
}
_TECH_ACTIONS = {"accept", "decline", "arrive", "complete", "cannot_fix"}
_RESIDENT_ACTIONS = {"cancel", "rate"}
_ASSIGNER_ROLES = {"dispatcher", "admin", "system"}  # "system" = the auto-assigner
MAX_COMMENT_CHARS = 500


class _Rng(Protocol):
    def randrange(self, stop: int, /) -> int: ...


def make_completion_code(rng: _Rng) -> str:
    """6-digit code shown to the resident; the technician must enter it to complete.
    Pass secrets.SystemRandom() in production, a seeded random.Random in tests."""
    return f"{rng.randrange(1_000_000):06d}"


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
    complete -> code (req); cancel -> reason; rate -> stars (int 1-5), comment.
    """
    current = repair.get("status", "open")
    if action not in TRANSITIONS or current not in TRANSITIONS[action][0]:
        raise IllegalTransition(current, action)
    new_status = TRANSITIONS[action][1]
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
        "at": _utc(now).isoformat(),
        "by": {"id": actor.get("id"), "role": actor.get("role")},
    }
    note = ""
    declined = list(repair.get("declined_technician_ids") or [])

    def _unassign() -> None:
        # Remember who gave this job back so auto-assign does not offer it to them again.
        if tech_id is not None and str(tech_id) not in {str(d) for d in declined}:
            declined.append(tech_id)
        updates.update(technician_id=None, technician_name=None, declined_technician_ids=declined)

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
                raise IllegalTransition(current, action, "stale timer for another technician")
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
        event_type = "technician_arrived"
    elif action == "complete":
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
    start = _utc(repair["requested_at"])
    end = repair.get("due_by")
    return start, _utc(end) if end is not None else start + timedelta(minutes=DEFAULT_SLA_MINUTES)


def sla_state(repair: dict[str, Any], now: datetime) -> str:
    """ "met"/"missed" once arrived (vs due_by, inclusive); before arrival "breached" when
    strictly past due_by, "at_risk" from 80% of the window, else "ok". A repair cancelled
    before arrival is judged as of its cancellation time so it stops ageing.
    """
    start, end = _window(repair)
    arrived = repair.get("arrived_at")
    if arrived is not None:
        return "met" if _utc(arrived) <= end else "missed"
    at = _utc(now)
    if repair.get("status") == "cancelled" and repair.get("cancelled_at") is not None:
        at = _utc(repair["cancelled_at"])
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
    repairs: list[dict[str, Any]], tz: str = DEFAULT_TZ, now: datetime | None = None
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
        day = _utc(r["requested_at"]).astimezone(zone).date().isoformat()
        groups[(day, r.get("skill") or "")].append(r)

    out = []
    for (day, skill), rows in sorted(groups.items()):
        arrived_minutes: list[float] = []
        on_time = judged = 0
        for r in rows:
            if r.get("arrived_at") is not None:
                start, _ = _window(r)
                arrived_minutes.append((_utc(r["arrived_at"]) - start).total_seconds() / 60)
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
