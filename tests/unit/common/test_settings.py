"""One settings path: every setting has a key in config.DEFAULTS, is listed once with its
meaning in deploy/nameko.yaml and deploy/env.example, and only config.py reads the
environment for it."""

from __future__ import annotations

import re
from pathlib import Path

from services.common.config import DEFAULTS, coerce, env_name

ROOT = Path(__file__).resolve().parents[3]
NAMEKO_YAML = ROOT / "deploy" / "nameko.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"

# Files that may read the environment themselves, and why (docs/architecture.md, Settings).
ENV_READERS_ALLOWED = {
    "services/common/config.py": "the one reader of settings",
    "services/gateway/gunicorn_conf.py": "sets PROMETHEUS_MULTIPROC_DIR, prometheus-client's "
                                         "own variable, before any worker imports it",
    "services/gateway/metrics.py": "asks whether prometheus-client runs in multiprocess mode",
    "services/launcher.py": "a developer tool: hands its environment on to the processes it "
                            "starts, and picks its own bind address and dev-token default",
}
ENV_READERS_PENDING: set[str] = set()  # nothing may read the environment on its own

ACTIVE_KEY = re.compile(r"^([A-Z][A-Z0-9_]*): \$\{([A-Z][A-Z0-9_]*):(.*)\}\s*$")
LISTED_KEY = re.compile(r"^#\s+([A-Z][A-Z0-9_]*): (.+) \(default (.*)\)\s*$")
# os.environ / os.getenv, however imported (a WSGI request's environ is not the environment).
ENV_READ = re.compile(r"\bos\.(environ|getenv)\b|^from os import .*\b(environ|getenv)\b", re.M)
ENV_LINE = re.compile(r"^(# )?([A-Z][A-Z0-9_]*)=(.*)$")


def _value(default, raw: str):
    if raw in ("", "empty"):
        return ""
    return coerce(default, raw)


def _yaml_entries() -> list[tuple[str, str | None, str, str]]:
    """(key, environment variable or None, default as written, meaning) per listed setting."""
    lines = NAMEKO_YAML.read_text(encoding="utf-8").splitlines()
    entries = []
    for i, line in enumerate(lines):
        if m := ACTIVE_KEY.match(line):
            above = lines[i - 1] if i else ""
            meaning = above.lstrip("# ").strip() if above.startswith("#") else ""
            entries.append((m[1], m[2], m[3], meaning))
        elif m := LISTED_KEY.match(line):
            entries.append((m[1], None, m[3], m[2].strip()))
    return entries


def test_nameko_yaml_lists_every_setting_once_with_its_meaning_and_default():
    entries = _yaml_entries()
    keys = [key for key, *_ in entries]
    assert sorted(keys) == sorted(set(keys)), "a setting is listed twice in deploy/nameko.yaml"
    assert set(keys) == set(DEFAULTS), "deploy/nameko.yaml and config.DEFAULTS disagree"
    for key, env, default, meaning in entries:
        assert meaning, f"{key} has no meaning in deploy/nameko.yaml"
        if env is not None:
            assert env == env_name(key), f"{key} is filled from ${{{env}}}"
        assert _value(DEFAULTS[key], default) == DEFAULTS[key], (
            f"{key}: deploy/nameko.yaml says {default!r}, config.DEFAULTS {DEFAULTS[key]!r}")


def test_env_example_lists_every_setting_once_with_its_meaning():
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    names = []
    for i, line in enumerate(lines):
        if m := ENV_LINE.match(line):
            names.append(m[2])
            above = lines[i - 1]
            assert above.startswith("#") and not ENV_LINE.match(above), (
                f"{m[2]} has no meaning on the line above it in deploy/env.example")
            key = next((k for k in DEFAULTS if env_name(k) == m[2]), None)
            if m[1] and key is not None:  # commented out: shows the default
                assert _value(DEFAULTS[key], m[3]) == DEFAULTS[key], (
                    f"{m[2]}: deploy/env.example shows {m[3]!r} as the default")
    assert sorted(names) == sorted(set(names)), "a setting is listed twice in env.example"
    assert set(names) == {env_name(key) for key in DEFAULTS}, (
        "deploy/env.example and config.DEFAULTS disagree")


def test_only_config_reads_the_environment():
    readers = set()
    for path in (ROOT / "services").rglob("*.py"):
        if ENV_READ.search(path.read_text(encoding="utf-8")):
            readers.add(path.relative_to(ROOT).as_posix())
    unexpected = readers - set(ENV_READERS_ALLOWED) - ENV_READERS_PENDING
    assert not unexpected, f"read settings through services.common.config: {unexpected}"
