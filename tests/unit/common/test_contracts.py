"""Every event type's contract can be found by grepping the event's name."""

from pathlib import Path

from services.common.events import known_event_types

CONTRACTS = Path(__file__).resolve().parents[3] / "services" / "common" / "contracts"


def test_every_event_type_is_declared_by_name_in_the_contracts():
    source = "".join(p.read_text(encoding="utf-8") for p in CONTRACTS.glob("*.py"))
    for event_type, version in known_event_types():
        declared = (f'@contract("{event_type}")' if version == 1
                    else f'@contract("{event_type}", {version})')
        assert declared in source, f"{event_type} v{version} has no contract class by name"
