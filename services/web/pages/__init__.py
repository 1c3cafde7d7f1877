"""Each person's pages, one child blueprint per module. To add pages for a role: write
pages/<role>.py with a ``bp``, list it in ALL_PAGES, give the role a HOME and NAV entry."""

from __future__ import annotations

from services.web.pages import (
    auth,
    common,
    dispatcher,
    feedback,
    market,
    paying,
    planner,
    planner_feedback,
    receipts,
    recycling,
    resident,
    shop,
    technician,
)

ALL_PAGES = [auth.bp, common.bp, resident.bp, shop.bp, dispatcher.bp, technician.bp, planner.bp,
             paying.bp, feedback.bp, planner_feedback.bp, receipts.bp, market.bp, recycling.bp]

# Where each role lands after signing in (roles without pages yet land on the welcome page).
HOME = {
    "resident": "web.resident.home",
    "merchant": "web.shop.home",
    "dispatcher": "web.dispatch.console",
    "technician": "web.tech.home",
    "planner": "web.plan.coverage",
    "market_manager": "web.market.home",
}

# The top navigation per role: (endpoint, label to translate).
NAV: dict[str, list[tuple[str, str]]] = {
    "resident": [("web.resident.home", "Nearby"), ("web.resident.basket", "Basket"),
                 ("web.resident.orders", "My orders"), ("web.resident.new_repair", "Repairs"),
                 ("web.resident.notices", "Notices"), ("web.feedback.home", "Feedback"),
                 ("web.recycling.credits", "Recycling"), ("web.receipt.lookup", "Receipts"),
                 ("web.common.settings", "Settings")],
    "merchant": [("web.shop.home", "Orders"), ("web.shop.goods", "Goods"),
                 ("web.shop.profile", "Shop"), ("web.recycling.point", "Recycling"),
                 ("web.common.settings", "Settings")],
    "dispatcher": [("web.dispatch.console", "Board"), ("web.dispatch.roster", "Roster"),
                   ("web.dispatch.stats", "Today's figures"),
                   ("web.common.settings", "Settings")],
    "technician": [("web.tech.home", "My jobs"), ("web.common.settings", "Settings")],
    "planner": [("web.plan.coverage", "Coverage"), ("web.plan.notices", "Notices"),
                ("web.plan_feedback.home", "Feedback"), ("web.common.settings", "Settings")],
    "market_manager": [("web.market.home", "Stalls"), ("web.market.mismatches", "Mismatches"),
                       ("web.receipt.lookup", "Receipts"), ("web.common.settings", "Settings")],
}


def nav_links(role: str) -> list[tuple[str, str]]:
    return NAV.get(role, [("web.common.settings", "Settings")])
