"""Whose documents a list shows, derived so that "no such profile" or "no shop" means
nothing, never "no filter".

A scope is a query, or ``NOTHING``. A query built from a missing profile — ``{"technician_id":
None}`` — matches every document whose field is missing or null: that is how a technician
login without a profile once listed every unassigned repair in the city. So an owner that is
missing, empty or not a string gives ``NOTHING``, and a list whose scope is ``NOTHING`` is
answered empty without asking the store. Pure: imports no store.
"""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any] | None
NOTHING: Scope = None


def owned_by(field: str, owner: Any) -> Scope:
    """The documents whose ``field`` is ``owner``; NOTHING when there is no owner."""
    if not isinstance(owner, str) or not owner:
        return NOTHING
    return {field: owner}


def everything() -> Scope:
    """No restriction: for roles that see every document of the list (dispatchers, admins)."""
    return {}


def narrowed(scope: Scope, **filters: Any) -> Scope:
    """The scope with more equality filters (those given as None are left out); NOTHING
    stays NOTHING."""
    if scope is NOTHING:
        return NOTHING
    return {**scope, **{k: v for k, v in filters.items() if v is not None}}
