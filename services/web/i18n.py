"""Languages, times and money for pages.

Text is written in English in the templates and code and translated by message catalogs
(Flask-Babel); zh-CN is the default, English is a remembered switch (a cookie). The .po files
are the source; their .mo files are compiled when the gateway starts, into a directory named
by the catalogs' hash, so nothing generated is committed and a read-only install works.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request
from flask_babel import Babel, get_locale
from flask_babel import gettext as _

from services.web import messages
from services.web.session import LANG_COOKIE

SOURCE = Path(__file__).with_name("translations")
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
DOMAIN = "messages"


def compile_catalogs(source: Path = SOURCE, root: Path | None = None) -> Path:
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` under source; returns the directory
    holding the .mo files (reused while the catalogs are unchanged)."""
    pos = sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in pos)
                            + Path(__file__).read_bytes()).hexdigest()[:16]
    out = (root or Path(tempfile.gettempdir())) / f"lifecircle-i18n-{digest}"
    for po in pos:
        # Babel looks catalogs up by the full locale name (zh_CN is zh_Hans_CN)
        lang = str(Locale.parse(po.parent.parent.name))
        target = out / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as fh:
            write_mo(fh, catalog)
        os.replace(partial, target)  # two workers compiling at once both end with a whole file
    return out


def language() -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def is_chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def html_lang() -> str:
    return "zh-CN" if is_chinese() else "en"


def init(app: Any, city_tz: str) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_catalogs())
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_DEFAULT_TIMEZONE"] = city_tz
    Babel(app, locale_selector=language, timezone_selector=lambda: city_tz)


# --- formatting, as Jinja filters -------------------------------------------------------------


def yuan(fen: int | None) -> str:
    """Integer fen as 元 with two decimals: 1600 -> '16.00 元'. Integers only, no float."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d} 元"


def local_time(value: str | datetime | None, tz: str, fmt: str = "%m-%d %H:%M") -> str:
    """An ISO UTC time (as the API gives) in the city's time zone."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def quantity(grams_or_pieces: int, sale_mode: str, unit: str = "") -> str:
    if sale_mode == "by_weight":
        return f"{grams_or_pieces} g"
    return f"{grams_or_pieces} {unit}".strip()


_PATTERNS = [(re.compile(pattern), template) for pattern, template in messages.PATTERNS]


def translate_message(message: str) -> str:
    """A field error from a schema or a service, in the page's language when the catalog
    knows it (services/web/messages.py lists them; numbers are kept)."""
    if not message:
        return message
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return _(template, **match.groupdict())
    return _(message)
