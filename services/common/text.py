"""Text that can be stored and sent: JSON may carry lone UTF-16 surrogates ("\\ud800"), which
Python decodes into a str that no UTF-8 encoder (BSON, SQLite, our JSON responses) accepts.
Such input is refused where it enters, never found by the store."""

from __future__ import annotations

from typing import Any


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unencodable_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (value or key) in ``value`` that is not valid
    Unicode, or None. Lists count as ``name.0``, ``name.1``, …"""
    if isinstance(value, str):
        return None if encodable(value) else (path or "_")
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not encodable(key):
                return path or "_"
            found = unencodable_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unencodable_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
