"""One shape for every paged list an RPC returns: ``{items, page, page_size, total}``
(the gateway's ``page_of`` schema documents the same shape)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def offset(page: int, page_size: int) -> int:
    """How many items come before ``page`` (pages count from 1)."""
    return (page - 1) * page_size


def page_dict(items: Iterable[Any], page: int, page_size: int, total: int,
              view: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """A page of ``items``, each passed through ``view`` (a public view) if given."""
    return {"items": [view(item) for item in items] if view else list(items),
            "page": page, "page_size": page_size, "total": total}


def slice_page(items: list[Any], page: int, page_size: int) -> list[Any]:
    """The items of ``page`` from a list already ranked in memory."""
    start = offset(page, page_size)
    return items[start:start + page_size]


def empty_page(page: int, page_size: int) -> dict[str, Any]:
    """The answer to a list whose scope is nothing (services/common/scopes.py)."""
    return page_dict([], page, page_size, 0)
