"""One shape for every paged list an RPC returns: ``{items, page, page_size, total,
total_capped}`` (the gateway's ``page_of`` schema documents the same shape).

Counts do not scan (docs/architecture.md, "Flat in stored data"): a list reads at most
``TOTAL_CAP`` + 1 matches past its page's start, so ``total`` is exact up to TOTAL_CAP and
beyond it TOTAL_CAP with ``total_capped`` ("100+").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

TOTAL_CAP = 100  # a total beyond this is shown as 100 with total_capped ("100+")


def offset(page: int, page_size: int) -> int:
    """How many items come before ``page`` (pages count from 1)."""
    return (page - 1) * page_size


def wanted(skip: int, limit: int) -> int:
    """How many matches a list reads at most: its page, and enough to tell TOTAL_CAP from
    more."""
    return max(skip + limit, TOTAL_CAP) + 1


def capped(docs: list[Any], skip: int, limit: int) -> tuple[list[Any], int, bool]:
    """(the page, the total, whether it is capped) from the first matches, in list order
    (at least ``wanted(skip, limit)`` of them when there are that many)."""
    return docs[skip:skip + limit], min(len(docs), TOTAL_CAP), len(docs) > TOTAL_CAP


def read_capped(cursor: Any, skip: int, limit: int) -> tuple[list[Any], int, bool]:
    """A sorted cursor's page and capped total: a limit, never a count of every match."""
    return capped(list(cursor.limit(wanted(skip, limit))), skip, limit)


def page_dict(items: Iterable[Any], page: int, page_size: int, total: int,
              view: Callable[[Any], Any] | None = None,
              total_capped: bool = False) -> dict[str, Any]:
    """A page of ``items``, each passed through ``view`` (a public view) if given."""
    return {"items": [view(item) for item in items] if view else list(items),
            "page": page, "page_size": page_size, "total": total,
            "total_capped": total_capped}


def slice_page(items: list[Any], page: int, page_size: int) -> list[Any]:
    """The items of ``page`` from a list already ranked in memory."""
    start = offset(page, page_size)
    return items[start:start + page_size]


def empty_page(page: int, page_size: int) -> dict[str, Any]:
    """The answer to a list whose scope is nothing (services/common/scopes.py)."""
    return page_dict([], page, page_size, 0)
