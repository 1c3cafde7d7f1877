"""Every list, asked by a person of each role who has no profile and no shop, shows nothing of
anyone else's — or is refused, or is a list that role sees in full by design. A technician
login without a technician profile once listed every unassigned repair in the city (residents'
ids, addresses, exact locations), because its scope was a query on a missing technician.

The world holds what a leak would show: an unassigned and an assigned repair, an order whose
shop owner is unknown (rejected: no such shop) and a confirmed one, notifications, a shop and
its webhook, feedback (about the shop and about anything) and a notice. Each person below is
new: no technician profile, no shop, no community, no inbox of their own.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import HOME, Shop, awake
from tests.helpers import assert_error_shape, unique, wait_for

ROLES = ("resident", "merchant", "technician", "dispatcher", "planner", "market_manager",
         "admin")
NONE, DENIED, ROLE_WIDE, PUBLIC = "nothing", "403", "the role's whole list", "public"

# path -> what each role without a profile or shop gets
SCOPES: dict[str, dict[str, str]] = {
    "/api/v1/repairs": {"resident": NONE, "technician": NONE, "dispatcher": ROLE_WIDE,
                        "admin": ROLE_WIDE, "merchant": DENIED, "planner": DENIED},
    "/api/v1/repairs?status=open": {"resident": NONE, "technician": NONE,
                                    "dispatcher": ROLE_WIDE, "admin": ROLE_WIDE,
                                    "merchant": DENIED, "planner": DENIED},
    "/api/v1/orders": {"resident": NONE, "merchant": NONE, "admin": ROLE_WIDE,
                       "technician": DENIED, "dispatcher": DENIED, "planner": DENIED},
    "/api/v1/orders?status=rejected": {"resident": NONE, "merchant": NONE, "admin": ROLE_WIDE,
                                       "technician": DENIED, "dispatcher": DENIED,
                                       "planner": DENIED},
    "/api/v1/technicians": {"dispatcher": ROLE_WIDE, "admin": ROLE_WIDE, "resident": DENIED,
                            "merchant": DENIED, "technician": DENIED, "planner": DENIED},
    # Dispatchers share one inbox by design (docs/notifications.md).
    "/api/v1/notifications": {"resident": NONE, "merchant": NONE, "technician": NONE,
                              "planner": NONE, "admin": NONE, "dispatcher": ROLE_WIDE},
    "/api/v1/me/webhooks": {role: NONE for role in ROLES},
    "/api/v1/admin/deliveries?status=pending": {
        "admin": ROLE_WIDE, **{r: DENIED for r in ROLES if r != "admin"}},
    "/api/v1/dispatch/board": {"dispatcher": ROLE_WIDE, "admin": ROLE_WIDE, "resident": DENIED,
                               "merchant": DENIED, "technician": DENIED, "planner": DENIED},
    "/api/v1/notices?lat=30.5803&lng=114.2705": {role: PUBLIC for role in ROLES},
    "/api/v1/merchants/{shop}/products": {role: PUBLIC for role in ROLES},
    # A planner with no community assigned reads no one's feedback (services/notify).
    "/api/v1/feedback": {"resident": NONE, "planner": NONE, "admin": ROLE_WIDE,
                         "merchant": DENIED, "technician": DENIED, "dispatcher": DENIED},
    "/api/v1/me/merchants": {"merchant": NONE, "admin": NONE, "resident": DENIED,
                             "technician": DENIED, "dispatcher": DENIED, "planner": DENIED},
    "/api/v1/me/markets": {"market_manager": NONE, "admin": NONE, "resident": DENIED,
                           "merchant": DENIED, "technician": DENIED, "dispatcher": DENIED,
                           "planner": DENIED},
}


@pytest.fixture(scope="module")
def world(api):
    dispatcher = (unique("dispatcher"), "dispatcher")
    reporter = awake(api, (unique("resident"), "resident"))  # any hour of the day
    place = {"lat": 30.5803, "lng": 114.2705}
    assignee = (unique("technician"), "technician")
    tech = api.post("/api/v1/technicians", as_=dispatcher, json={
        "sub": assignee[0], "name": "周师傅", "skills": ["plumbing"], "home": place,
        "travel_mode": "walking", "status": "available"}).json()
    repair_ids = []
    for description in ("卫生间漏水", "厨房下水道堵了"):
        r = api.post("/api/v1/repairs", as_=reporter, headers={
            "Idempotency-Key": uuid.uuid4().hex}, json={
            "skill": "plumbing", "description": description, "address": "民意街12号3单元502",
            "location": place})
        assert r.status_code == 201, r.text
        repair_ids.append(r.json()["id"])
    r = api.post(f"/api/v1/repairs/{repair_ids[1]}/assign", as_=dispatcher,
                 json={"technician_id": tech["id"]})
    assert r.status_code == 200, r.text

    shop = Shop(api)
    confirmed = api.post("/api/v1/orders", as_=reporter, json=shop.order_body(),
                         headers={"Idempotency-Key": uuid.uuid4().hex}).json()
    nowhere = api.post("/api/v1/orders", as_=reporter, headers={
        "Idempotency-Key": uuid.uuid4().hex}, json={
        "merchant_id": "mer_" + "0" * 32, "delivery": HOME,
        "items": [{"product_id": "prd_" + "0" * 32, "quantity": 1}]}).json()
    for order, status in ((confirmed, "confirmed"), (nowhere, "rejected")):
        wait_for(lambda o=order, s=status: api.get(f"/api/v1/orders/{o['id']}", as_=reporter)
                 .json()["status"] == s, what=f"an order {status}")
    wait_for(lambda: api.get("/api/v1/notifications", as_=reporter).json()["total"],
             what="a notification")
    r = api.post("/api/v1/me/webhooks", as_=shop.owner,
                 json={"url": "https://example.com/hook"})
    assert r.status_code == 201, r.text  # the webhook a leak of anyone's webhooks would show
    # Feedback from the reporter's community: what a planner without one, or another
    # resident, would see if the feedback scope leaked.
    r = api.request("PUT", "/api/v1/me/notification-preferences", as_=reporter,
                    json={"home": {"location": place, "community": unique("民意街社区")}})
    assert r.status_code == 200, r.text
    feedback = []
    for about in ({"subject_type": "shop", "subject_id": shop.merchant["id"]},
                  {"subject_type": "other"}):
        r = api.post("/api/v1/feedback", as_=reporter, json={**about, "text": "路灯坏了一周了"})
        assert r.status_code == 201, r.text
        feedback.append(r.json()["id"])
    # What an unscoped list would show is really there: each owner's own list holds it.
    assert api.get("/api/v1/feedback", as_=reporter).json()["total"] == len(feedback)
    assert [m["id"] for m in api.get("/api/v1/me/merchants", as_=shop.owner).json()["items"]
            ] == [shop.merchant["id"]]
    assert api.get("/api/v1/me/webhooks", as_=shop.owner).json()["items"]
    planner = (unique("planner"), "planner")
    r = api.post("/api/v1/notices", as_=planner, headers={
        "Idempotency-Key": uuid.uuid4().hex}, json={
        "title": "停水通知", "body": "明天9点到12点停水",
        "audience": {"near": {"location": place, "walk_minutes": 15}}})
    assert r.status_code in (200, 201, 202), r.text
    nobody = {role: (unique(f"nobody-{role}"), role) for role in ROLES}
    return {"nobody": nobody, "shop": shop.merchant["id"], "reporter": reporter,
            # What a role that sees the whole list must find in it: other people's.
            "role_wide": {"/api/v1/feedback": set(feedback)}}


CASES = [(path, role, expected) for path, by_role in SCOPES.items()
         for role, expected in by_role.items()]


@pytest.mark.parametrize(("path", "role", "expected"), CASES,
                         ids=[f"{p} as {r}" for p, r, _ in CASES])
def test_a_person_without_a_profile_or_shop_lists_nothing_of_anyone_elses(
        api, world, path, role, expected):
    path = path.format(shop=world["shop"])
    response = api.get(path, as_=world["nobody"][role])
    if expected == DENIED:
        assert_error_shape(response, 403)
        return
    assert response.status_code == 200, response.text
    body = response.json()
    if expected == NONE:
        assert body["items"] == [], f"{role} without a profile sees {body['items'][:2]}"
        assert body.get("total", 0) == 0
    elif expected == PUBLIC:
        # The same for everyone, whoever asks (what the world's reporter sees, too).
        assert body == api.get(path, as_=world["reporter"]).json()
    elif path in world["role_wide"]:  # the world's documents of other people are listed
        assert world["role_wide"][path] <= {item["id"] for item in body["items"]}
    elif path.startswith(("/api/v1/repairs", "/api/v1/orders", "/api/v1/technicians")):
        assert body["total"] >= 1  # the whole list really is there for this role


def test_every_list_endpoint_of_the_api_is_in_the_table(api, system):
    """A new list endpoint must join the table above."""
    spec = api.get("/api/v1/openapi.json").json()
    listed = set()
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        schema = get.get("responses", {}).get("200", {}).get("content", {}).get(
            "application/json", {}).get("schema", {})
        ref = schema.get("$ref", "")
        component = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], schema)
        properties = component.get("properties", {})
        # A page (items and total), or items under a path naming no one document.
        if "items" in properties and ("total" in properties or "{" not in path):
            listed.add(path)
    tabled = {p.split("?")[0].replace("{shop}", "{merchant_id}") for p in SCOPES}
    # Searches of the circle are public by place, not by person; business types are static.
    unscoped = {"/api/v1/merchants", "/api/v1/products", "/api/v1/business-types"}
    assert listed, "no list endpoints found: the check itself is broken"
    assert listed - unscoped <= tabled, sorted(listed - unscoped - tabled)
