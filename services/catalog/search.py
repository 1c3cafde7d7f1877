"""Chinese-friendly product-name matching over a small candidate list.

The candidates are the products of merchants within walking distance (tens to a few thousand
names), so a linear scan with a tiered score beats maintaining an index.  Chinese has no word
boundaries, so instead of a tokenizer we rely on substrings and character bigrams: searching
鸡蛋 matches 土鸡蛋 and "鸡蛋 10枚" (substring) but not 鸡肉 (no shared bigram).

Score tiers (higher is better, 0 = no match):
  1.0   exact match
  0.9   name starts with the query
  0.8   name contains the query (also when both are compared with whitespace removed)
  0.6   every whitespace-separated query term occurs in the name
  ≤0.5  share of the query's character bigrams found in the name, if >= BIGRAM_THRESHOLD
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

SCORE_EXACT = 1.0
SCORE_PREFIX = 0.9
SCORE_SUBSTRING = 0.8
SCORE_ALL_TERMS = 0.6
SCORE_BIGRAM_MAX = 0.5
# At least half of the query's bigrams must appear; lower lets 鸡肉 creep into 鸡蛋 results
# for longer queries.
BIGRAM_THRESHOLD = 0.5


def normalize(text: str) -> str:
    """NFKC (full-width → half-width, e.g. ＡＢＣ１２ → ABC12), case-fold, collapse spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _bigrams(text: str) -> set[str]:
    compact = text.replace(" ", "")
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def score(query: str, name: str) -> float:
    """Relevance of `name` for `query` in [0, 1]; 0 means no match."""
    q, n = normalize(query or ""), normalize(name or "")
    if not q or not n:
        return 0.0
    if q == n:
        return SCORE_EXACT
    if n.startswith(q):
        return SCORE_PREFIX
    # Whitespace-insensitive containment: "鸡蛋10枚" should find "鸡蛋 10枚".
    if q in n or q.replace(" ", "") in n.replace(" ", ""):
        return SCORE_SUBSTRING
    terms = q.split()
    if len(terms) > 1 and all(t in n for t in terms):
        return SCORE_ALL_TERMS
    qb = _bigrams(q)
    if not qb:
        return 0.0
    share = len(qb & _bigrams(n)) / len(qb)
    return SCORE_BIGRAM_MAX * share if share >= BIGRAM_THRESHOLD else 0.0


def _getter(key: str | Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    if key is None or callable(key):
        return key
    return lambda item: item[key]


def rank(
    query: str,
    items: Iterable[Any],
    name_key: str | Callable[[Any], str] = "name",
    distance_key: str | Callable[[Any], float] | None = None,
) -> list[Any]:
    """Items whose name matches `query`, best score first, then nearest; zero scores dropped.

    name_key / distance_key are dict keys or callables.  Without distance_key (or when it
    yields None) equal scores keep input order.
    """
    if name_key is None:
        raise ValueError("name_key is required")
    get_name = _getter(name_key)
    get_dist = _getter(distance_key)
    scored = []
    for item in items:
        s = score(query, get_name(item))
        if s > 0:
            dist = get_dist(item) if get_dist else None
            scored.append((s, float("inf") if dist is None else dist, item))
    scored.sort(key=lambda t: (-t[0], t[1]))  # stable: input order breaks remaining ties
    return [item for _, _, item in scored]
