"""What a page says after a redirect (``?done=saved``): no server-side flash storage, so the
gateway stays stateless."""

from __future__ import annotations

from flask_babel import gettext as _


def done_message(code: str | None) -> str | None:
    messages = {
        "saved": _("Saved."),
        "paid": _("Paid. The shop can see it."),
        "payment_failed": _("The payment did not go through. You can try again."),
        "cash_chosen": _("You pay in cash when the order arrives."),
        "feedback_sent": _("Sent. Your community's planner will answer here and in your inbox."),
        "answered": _("Your answer is sent. The resident has been told."),
        "closed": _("Closed. The resident has been told."),
        "added": _("Added to your basket."),
        "cancelled": _("The order is cancelled."),
        "reported": _("Your repair is reported. A technician will be sent."),
        "rated": _("Thank you for your rating."),
        "created": _("Created."),
        "assigned": _("Assigned. The technician has been told."),
        "located": _("Your location is shared."),
        "posted": _("The notice is posted."),
        "handed_back": _("The job is handed back to the dispatcher."),
    }
    return messages.get(code or "")
