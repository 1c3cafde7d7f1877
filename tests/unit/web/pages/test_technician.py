"""Which buttons a technician's job offers, and what the forms send."""

from __future__ import annotations

from services.web.pages.technician import action_body, offered


def test_each_status_offers_the_moves_the_dispatch_domain_allows_from_it():
    assert offered("assigned") == ["accept", "decline"]
    assert offered("accepted") == ["arrive", "cannot_fix"]
    assert offered("arrived") == ["complete", "cannot_fix"]
    assert offered("completed") == [] and offered("open") == []


def test_the_completion_form_sends_the_code_what_was_done_and_each_part():
    body = action_body("complete", {"code": " 123456 ", "resolution": "换阀芯",
                                    "parts_used": "阀芯，生料带, ,"})
    assert body == {"code": "123456", "resolution": "换阀芯", "parts_used": ["阀芯", "生料带"]}
    assert action_body("decline", {"reason": ""}) == {"reason": None}
    assert action_body("arrive", {"anything": "x"}) == {}
