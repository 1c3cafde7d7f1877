"""Who may call what: every endpoint × every role, and owner versus another user of the same
role. Allowed calls must get past authorisation (any status but 401/403/404); the rest get
exactly the status in the table. Stateful actions are probed on a delivered order, so an
allowed actor gets 409 (wrong state) and nothing changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from tests.e2e.conftest import awake
from tests.helpers import assert_error_shape, unique, wait_for

ROLES = ("resident", "merchant", "technician", "dispatcher", "planner", "market_manager",
         "admin")
DENIED = {401, 403, 404}


@dataclass
class Case:
    method: str
    path: str  # formatted with the world's ids
    allowed: set[str]  # actor names that may call it
    denied_status: dict[str, int] = field(default_factory=dict)  # actor -> expected status
    body: dict | None = None
    headers: dict | None = None
    ok_status: set[int] | None = None  # what allowed actors must get, if not just "in"


@pytest.fixture(scope="module")
def world(api):
    """A shop with an owner, a delivered order by one resident, and the actors."""
    actors = {role: (unique(role), role) for role in ROLES}
    actors["owner"] = (unique("merchant"), "merchant")
    actors["orderer"] = awake(api, (unique("resident"), "resident"))
    shop = api.post("/api/v1/merchants", as_=actors["owner"], json={
        "name": "惠民便利店", "business_type": "convenience_store", "address": "民意四路18号",
        "location": {"lat": 30.5806, "lng": 114.2712}}).json()
    product = api.post(f"/api/v1/merchants/{shop['id']}/products", as_=actors["owner"], json={
        "name": "挂面", "unit": "袋", "price_fen": 850, "stock": 100}).json()
    doomed = api.post(f"/api/v1/merchants/{shop['id']}/products", as_=actors["owner"], json={
        "name": "过期酸奶", "unit": "杯", "price_fen": 500, "stock": 1}).json()
    order = api.post("/api/v1/orders", as_=actors["orderer"], headers={
        "Idempotency-Key": str(uuid.uuid4())}, json={
        "merchant_id": shop["id"], "items": [{"product_id": product["id"], "quantity": 1}],
        "delivery": {"address": "民意街12号", "location": {"lat": 30.5803, "lng": 114.2705}}}
    ).json()
    wait_for(lambda: api.get(f"/api/v1/orders/{order['id']}", as_=actors["orderer"])
             .json()["status"] == "confirmed", what="order confirmed")
    for action in ("accept", "dispatch", "deliver"):
        assert api.post(f"/api/v1/orders/{order['id']}/{action}",
                        as_=actors["owner"]).status_code == 200
    note = wait_for(lambda: api.get("/api/v1/notifications", as_=actors["orderer"])
                    .json()["items"], what="a notification")[0]
    # A feedback of the orderer's community, closed by its planner (every reply is now a 409).
    community = unique("民意街社区")
    api.request("PUT", "/api/v1/me/notification-preferences", as_=actors["orderer"],
                json={"home": {"location": {"lat": 30.5803, "lng": 114.2705},
                               "community": community}})
    api.request("PUT", "/api/v1/admin/planners", as_=actors["admin"],
                json={"sub": actors["planner"][0], "communities": [community]})
    feedback = api.post("/api/v1/feedback", as_=actors["orderer"],
                        json={"subject_type": "other", "text": "路灯坏了"}).json()
    assert api.post(f"/api/v1/feedback/{feedback['id']}/close",
                    as_=actors["planner"]).status_code == 200
    return {"actors": actors, "ids": {"shop": shop["id"], "product": product["id"],
                                      "order": order["id"], "note": note["id"],
                                      "feedback": feedback["id"],
                                      "doomed": doomed["id"], "fake": "dlv_" + "0" * 32}}


def everyone_but(*names: str) -> set[str]:
    return {*ROLES, "owner", "orderer"} - set(names)


def cases() -> list[Case]:
    all_actors = everyone_but()
    return [
        # catalog
        Case("POST", "/api/v1/merchants", {"merchant", "owner", "admin"},
             {a: 403 for a in everyone_but("merchant", "owner", "admin")}, body={}),
        Case("GET", "/api/v1/merchants/{shop}", all_actors),
        Case("PATCH", "/api/v1/merchants/{shop}", {"owner", "admin"},
             {"merchant": 403, **{a: 403 for a in everyone_but("merchant", "owner", "admin")}},
             body={"phone": "027-85550101"}),
        Case("GET", "/api/v1/merchants/{shop}/products", all_actors),
        Case("GET", "/api/v1/products/{product}", all_actors),
        Case("POST", "/api/v1/merchants/{shop}/products", {"owner", "admin"},
             {"merchant": 403, **{a: 403 for a in everyone_but("merchant", "owner", "admin")}},
             body={"name": "醋", "unit": "瓶", "price_fen": 500, "stock": 0}),
        Case("PATCH", "/api/v1/products/{product}", {"owner", "admin"},
             {"merchant": 403, **{a: 403 for a in everyone_but("merchant", "owner", "admin")}},
             body={"price_fen": 850}),
        # orders
        Case("POST", "/api/v1/orders", {"resident", "orderer"},
             {a: 403 for a in everyone_but("resident", "orderer")}, body={},
             headers={"Idempotency-Key": "matrix-key-0001"}),
        Case("GET", "/api/v1/orders", {"resident", "orderer", "merchant", "owner", "admin"},
             {"technician": 403, "dispatcher": 403, "planner": 403}),
        Case("GET", "/api/v1/orders/{order}", {"orderer", "owner", "admin"},
             {a: 404 for a in everyone_but("orderer", "owner", "admin")}),
        *[Case("POST", f"/api/v1/orders/{{order}}/{action}", {"owner", "admin"},
               {"merchant": 404, "orderer": 403, "resident": 403, "technician": 403,
                "dispatcher": 403, "planner": 403})
          for action in ("accept", "decline", "dispatch", "deliver")],
        Case("POST", "/api/v1/orders/{order}/cancel", {"orderer", "admin"},
             {"resident": 404, "owner": 403, "merchant": 403, "technician": 403,
              "dispatcher": 403, "planner": 403}),
        # payments (on a delivered order: the orderer gets 409, nothing changes)
        Case("POST", "/api/v1/orders/{order}/payment", {"orderer"},
             {"resident": 404, **{a: 403 for a in everyone_but("resident", "orderer")}},
             body={"method": "online"}, ok_status={409}),
        Case("POST", "/api/v1/payments/sandbox/{order}", {"orderer", "admin"},
             {"resident": 404, **{a: 403 for a in everyone_but("resident", "orderer",
                                                              "admin")}},
             body={"outcome": "paid"}, ok_status={409}),
        Case("GET", "/api/v1/products/{product}/stock-history", {"owner", "admin"},
             {a: 403 for a in everyone_but("owner", "admin")}),
        # allowed actors go last: the first of them deletes it, the next finds it gone
        Case("DELETE", "/api/v1/products/{doomed}", {"owner", "admin"},
             {a: 403 for a in everyone_but("owner", "admin")}, ok_status={204, 404}),
        # the circle
        Case("GET", "/api/v1/merchants?lat=30.58&lng=114.27", all_actors),
        Case("GET", "/api/v1/products?lat=30.58&lng=114.27&q=%E6%8C%82%E9%9D%A2", all_actors),
        Case("GET", "/api/v1/coverage?lat=30.58&lng=114.27", {"planner", "admin"},
             {a: 403 for a in everyone_but("planner", "admin")}),
        Case("GET", "/api/v1/coverage/area?south=30.579&west=114.269&north=30.581&east=114.271",
             {"planner", "admin"}, {a: 403 for a in everyone_but("planner", "admin")}),
        # notifications
        Case("GET", "/api/v1/notifications", all_actors),
        Case("POST", "/api/v1/notifications/{note}/read", {"orderer"},
             {a: 404 for a in everyone_but("orderer")}),
        Case("POST", "/api/v1/notifications/read-all", all_actors),
        Case("GET", "/api/v1/me/notification-preferences", all_actors),
        Case("PUT", "/api/v1/me/notification-preferences", all_actors, body={}),
        Case("POST", "/api/v1/me/webhooks", {"merchant", "owner", "planner", "dispatcher",
                                             "admin"},
             {"resident": 403, "orderer": 403, "technician": 403}, body={}),
        Case("GET", "/api/v1/me/webhooks", all_actors),
        Case("GET", "/api/v1/admin/deliveries", {"admin"},
             {a: 403 for a in everyone_but("admin")}),
        Case("GET", "/api/v1/admin/deliveries/{fake}", {"admin"},
             {a: 403 for a in everyone_but("admin")}, ok_status={404}),
        Case("POST", "/api/v1/notices", {"planner", "admin"},
             {a: 403 for a in everyone_but("planner", "admin")}, body={}),
        Case("GET", "/api/v1/notices?lat=30.58&lng=114.27", all_actors),
        # feedback to the community: the sender, the community's planner, admins
        Case("POST", "/api/v1/feedback", {"resident", "orderer"},
             {a: 403 for a in everyone_but("resident", "orderer")},
             body={"subject_type": "other", "text": "矩阵探测"}),
        Case("GET", "/api/v1/feedback", {"resident", "orderer", "planner", "admin"},
             {a: 403 for a in everyone_but("resident", "orderer", "planner", "admin")}),
        Case("GET", "/api/v1/feedback/{feedback}", {"orderer", "planner", "admin"},
             {"resident": 404, **{a: 403 for a in everyone_but("resident", "orderer",
                                                              "planner", "admin")}}),
        *[Case("POST", f"/api/v1/feedback/{{feedback}}/{action}", {"planner", "admin"},
               {a: 403 for a in everyone_but("planner", "admin")}, body={"text": "好的"},
               ok_status={409})
          for action in ("answer", "close")],
        Case("PUT", "/api/v1/admin/planners", {"admin"}, {a: 403 for a in everyone_but("admin")},
             body={}, ok_status={422}),
    ]


def call(api, world, case: Case, actor):
    path = case.path.format(**world["ids"])
    headers = dict(case.headers or {})
    if actor is not None:
        headers["Authorization"] = f"Bearer {api.token(*world['actors'][actor])}"
    return api.request(case.method, path, headers=headers, json=case.body)


def check_every_actor(api, world, case: Case, actors) -> None:
    """No token is a 401; each actor gets past authorisation or exactly its denial."""
    assert_error_shape(call(api, world, case, None), 401, "unauthorized")
    wrong = {}
    # Allowed actors last: a destructive probe must not run before the denied ones.
    for actor in sorted(actors, key=lambda a: a in case.allowed):
        response = call(api, world, case, actor)
        if actor in case.allowed:
            if case.ok_status is not None and response.status_code not in case.ok_status:
                wrong[actor] = (response.status_code, f"expected {case.ok_status}")
            elif case.ok_status is None and response.status_code in DENIED:
                wrong[actor] = (response.status_code, "should be allowed")
        else:
            expected = case.denied_status.get(actor, 403)
            if response.status_code != expected:
                wrong[actor] = (response.status_code, f"expected {expected}")
            else:
                assert_error_shape(response, expected)
    assert not wrong, wrong


@pytest.mark.parametrize("case", cases(), ids=lambda c: f"{c.method} {c.path}")
def test_each_endpoint_lets_in_exactly_who_it_should(api, world, case):
    check_every_actor(api, world, case, {*ROLES, "owner", "orderer"})


def test_the_payment_callback_needs_the_providers_signature_not_a_login(api, world):
    """The provider has no account: a bearer token neither helps nor is needed."""
    for actor in (None, "admin", "orderer"):
        headers = {} if actor is None else {
            "Authorization": f"Bearer {api.token(*world['actors'][actor])}"}
        r = api.post("/api/v1/payments/callback/sandbox", json={"id": "x"}, headers=headers)
        assert_error_shape(r, 403, "bad_signature")


def test_probing_changed_nothing(api, world):
    order = api.get(f"/api/v1/orders/{world['ids']['order']}",
                    as_=world["actors"]["orderer"]).json()
    assert order["status"] == "delivered"
    assert order["payment"]["status"] == "unpaid" and order["payment"]["method"] is None


# Repairs: a job carried through to "rated", so every action is now illegal and an allowed
# caller gets 409 while nothing changes.

REPAIR_ACTORS = ("resident", "reporter", "technician", "assignee", "dispatcher", "planner",
                 "merchant", "admin")


@pytest.fixture(scope="module")
def repair_world(api):
    actors = {role: (unique(role), role) for role in ROLES}
    actors["reporter"] = (unique("resident"), "resident")
    actors["assignee"] = (unique("technician"), "technician")
    place = {"lat": 31.1234, "lng": 112.3456}
    tech = api.post("/api/v1/technicians", as_=actors["dispatcher"], json={
        "sub": actors["assignee"][0], "name": "王师傅", "skills": ["plumbing"],
        "home": place, "travel_mode": "ebike"}).json()
    other = api.post("/api/v1/technicians", as_=actors["dispatcher"], json={
        "sub": actors["technician"][0], "name": "李师傅", "skills": ["plumbing"],
        "home": place, "travel_mode": "walking"}).json()
    api.patch("/api/v1/technicians/me/status", as_=actors["assignee"],
              json={"status": "available"})
    repair = api.post("/api/v1/repairs", as_=actors["reporter"], json={
        "skill": "plumbing", "description": "水龙头漏水", "address": "民意街3号",
        "location": place}, headers={"Idempotency-Key": uuid.uuid4().hex}).json()
    rid = repair["id"]
    steps = [("dispatcher", "assign", {"technician_id": tech["id"]}), ("assignee", "accept", None),
             ("assignee", "arrive", None)]
    for actor, action, body in steps:
        r = api.post(f"/api/v1/repairs/{rid}/{action}", as_=actors[actor], json=body)
        assert r.status_code == 200, r.text
    code = api.get(f"/api/v1/repairs/{rid}", as_=actors["reporter"]).json()["completion_code"]
    r = api.post(f"/api/v1/repairs/{rid}/complete", as_=actors["assignee"],
                 json={"code": code, "resolution": "换了垫圈", "parts_used": []})
    assert r.status_code == 200, r.text
    r = api.post(f"/api/v1/repairs/{rid}/rate", as_=actors["reporter"], json={"rating": 5})
    assert r.status_code == 200, r.text
    return {"actors": actors, "ids": {"repair": rid, "tech": tech["id"], "other": other["id"]}}


def repair_cases() -> list[Case]:
    everyone = set(REPAIR_ACTORS)
    technicians = {"technician", "assignee"}
    residents = {"resident", "reporter"}

    def only(*names: str, status: int = 403) -> dict[str, int]:
        return {a: status for a in everyone - set(names)}

    return [
        Case("POST", "/api/v1/technicians", {"dispatcher", "admin"},
             only("dispatcher", "admin"), body={}),
        Case("GET", "/api/v1/technicians", {"dispatcher", "admin"}, only("dispatcher", "admin")),
        Case("PATCH", "/api/v1/technicians/{tech}", {"dispatcher", "admin"},
             only("dispatcher", "admin"), body={"name": "王师傅"}),
        Case("GET", "/api/v1/technicians/{tech}", {"dispatcher", "admin", "assignee"},
             {**only("dispatcher", "admin", *technicians), "technician": 404}),
        Case("GET", "/api/v1/technicians/me", technicians, only(*technicians, "admin"),
             ok_status={200}),
        Case("PATCH", "/api/v1/technicians/me/location", technicians,
             only(*technicians, "admin"), body={"lat": 31.1234, "lng": 112.3456},
             ok_status={200}),
        Case("POST", "/api/v1/repairs", residents, only(*residents), body={},
             headers={"Idempotency-Key": "matrix-repair-0001"}),
        Case("GET", "/api/v1/repairs", {*residents, *technicians, "dispatcher", "admin"},
             only(*residents, *technicians, "dispatcher", "admin")),
        Case("GET", "/api/v1/repairs/{repair}", {"reporter", "assignee", "dispatcher", "admin"},
             only("reporter", "assignee", "dispatcher", "admin", status=404)),
        Case("GET", "/api/v1/repairs/{repair}/candidates", {"dispatcher", "admin"},
             only("dispatcher", "admin")),
        Case("POST", "/api/v1/repairs/{repair}/assign", {"dispatcher", "admin"},
             only("dispatcher", "admin"), body={"technician_id": "{tech}"}),
        *[Case("POST", f"/api/v1/repairs/{{repair}}/{action}", {"assignee", "admin"},
               {**only("assignee", "admin", "technician"), "technician": 404}, body=body)
          for action, body in (("accept", None), ("arrive", None),
                               ("decline", {"reason": "太远"}),
                               ("cannot-fix", {"reason": "缺零件"}),
                               ("complete", {"code": "000000", "resolution": "x",
                                             "parts_used": []}))],
        *[Case("POST", f"/api/v1/repairs/{{repair}}/{action}", {"reporter", "admin"},
               {**only("reporter", "admin", "resident"), "resident": 404}, body=body)
          for action, body in (("cancel", None), ("rate", {"rating": 1}),
                               ("new-code", None))],
        Case("GET", "/api/v1/dispatch/board", {"dispatcher", "admin"},
             only("dispatcher", "admin")),
        Case("GET", "/api/v1/dispatch/stats", {"dispatcher", "admin"},
             only("dispatcher", "admin")),
    ]


@pytest.mark.parametrize("case", repair_cases(), ids=lambda c: f"{c.method} {c.path}")
def test_each_repair_endpoint_lets_in_exactly_who_it_should(api, repair_world, case):
    if case.body and case.body.get("technician_id") == "{tech}":
        case.body = {"technician_id": repair_world["ids"]["tech"]}
    check_every_actor(api, repair_world, case, REPAIR_ACTORS)


def test_probing_repairs_changed_nothing(api, repair_world):
    repair = api.get(f"/api/v1/repairs/{repair_world['ids']['repair']}",
                     as_=repair_world["actors"]["reporter"]).json()
    assert repair["status"] == "rated" and repair["rating"] == 5


# The wet market: a market with one stall, its goods with a batch, a scale and a receipt.

MARKET_ACTORS = (*ROLES, "owner", "manager")


@pytest.fixture(scope="module")
def market_world(api):
    actors = {role: (unique(role), role) for role in ROLES}
    actors["owner"] = (unique("merchant"), "merchant")
    actors["manager"] = (unique("manager"), "market_manager")
    market = api.post("/api/v1/markets", as_=actors["manager"], json={"name": "新湾菜场"}).json()
    stall = api.post("/api/v1/merchants", as_=actors["owner"], json={
        "name": "李记鲜肉", "business_type": "wet_market", "address": "新湾菜场3号摊",
        "location": {"lat": 30.5806, "lng": 114.2712}}).json()
    assert api.post(f"/api/v1/markets/{market['id']}/stalls", as_=actors["owner"],
                    json={"merchant_id": stall["id"]}).status_code == 200
    pork = api.post(f"/api/v1/merchants/{stall['id']}/products", as_=actors["owner"], json={
        "name": "五花肉", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
        "price_fen": 1680, "stock": 10_000}).json()
    scale = api.post(f"/api/v1/merchants/{stall['id']}/devices", as_=actors["owner"],
                     json={"kind": "scale", "name": "3号摊电子秤"}).json()
    doomed = api.post(f"/api/v1/merchants/{stall['id']}/devices", as_=actors["owner"],
                      json={"kind": "scale", "name": "旧秤"}).json()
    sale = api.post("/api/v1/scales/weighings", headers={"X-Device-Token": scale["token"]},
                    json={"sequence": "matrix-1", "product_id": pork["id"], "grams": 500,
                          "unit_price_fen": 1680, "total_fen": 1680,
                          "weighed_at": "2026-12-01T04:00:00+00:00"})
    assert sale.status_code == 201, sale.text
    point = api.post("/api/v1/merchants", as_=actors["owner"], json={
        "name": "回收站", "business_type": "recycling", "address": "新湾菜场门口",
        "location": {"lat": 30.5806, "lng": 114.2712}}).json()
    assert api.request("PUT", f"/api/v1/merchants/{point['id']}/recycling-rates",
                       as_=actors["owner"], json={"paper": 800, "plastic": 1200, "metal": 2500,
                                                  "textile": 300}).status_code == 200
    return {"actors": actors, "ids": {"market": market["id"], "stall": stall["id"],
                                      "product": pork["id"], "doomed": doomed["id"],
                                      "code": sale.json()["code"], "point": point["id"]}}


def market_cases() -> list[Case]:
    everyone = set(MARKET_ACTORS)

    def only(*names: str, status: int = 403) -> dict[str, int]:
        return {a: status for a in everyone - set(names)}

    managers = ("manager", "admin")
    stall_hands = ("owner", "manager", "admin")
    return [
        Case("POST", "/api/v1/markets", {"market_manager", *managers},
             only("market_manager", *managers), body={}),
        Case("GET", "/api/v1/markets/{market}", set(managers), only(*managers)),
        Case("GET", "/api/v1/me/markets", {"market_manager", *managers},
             only("market_manager", *managers), ok_status={200}),
        Case("POST", "/api/v1/markets/{market}/stalls", {"owner", "admin"},
             only("owner", "admin"), body={"merchant_id": "{stall}"}),
        Case("GET", "/api/v1/markets/{market}/weighings?day=2026-12-01", set(managers),
             only(*managers)),
        Case("GET", "/api/v1/markets/{market}/mismatches?day=2026-12-01", set(managers),
             only(*managers)),
        Case("POST", "/api/v1/merchants/{stall}/devices", set(stall_hands),
             only(*stall_hands), body={"kind": "scale", "name": "备用秤"}, ok_status={201}),
        Case("POST", "/api/v1/products/{product}/batches", {"owner", "admin"},
             only("owner", "admin"), body={"code": "M-1", "origin": "湖北", "supplier": "x",
                                           "arrived_on": "2026-12-01"}, ok_status={201, 409}),
        # A person's token is never a device's credential.
        Case("POST", "/api/v1/scales/weighings", set(), only(status=401), body={}),
        Case("POST", "/api/v1/receipts/{code}/flag", {"resident", "admin"},
             only("resident", "admin"), body={"reason": "矩阵测试"}, ok_status={200}),
        # recycling
        Case("PUT", "/api/v1/merchants/{point}/recycling-rates", {"owner", "admin"},
             only("owner", "admin"), body={"paper": 800, "plastic": 1200, "metal": 2500,
                                           "textile": 300}, ok_status={200}),
        Case("GET", "/api/v1/merchants/{point}/recycling-rates", everyone),
        Case("GET", "/api/v1/merchants/{point}/recycling-intake?day=2026-12-01",
             {"owner", "admin"}, only("owner", "admin"), ok_status={200}),
        Case("POST", "/api/v1/recycling/drop-off-codes", {"resident"}, only("resident"),
             ok_status={201}),
        Case("GET", "/api/v1/recycling/credits/me", {"resident"}, only("resident"),
             ok_status={200}),
        Case("POST", "/api/v1/recycling/drop-offs", set(), only(status=401), body={}),
        # allowed actors go last: the first of them revokes it, the next finds it revoked
        Case("POST", "/api/v1/devices/{doomed}/revoke", set(stall_hands), only(*stall_hands),
             ok_status={200}),
    ]


@pytest.mark.parametrize("case", market_cases(), ids=lambda c: f"{c.method} {c.path}")
def test_each_market_endpoint_lets_in_exactly_who_it_should(api, market_world, case):
    if case.body and case.body.get("merchant_id") == "{stall}":
        case.body = {"merchant_id": market_world["ids"]["stall"]}
    check_every_actor(api, market_world, case, MARKET_ACTORS)


def test_a_receipt_is_public_to_everyone_and_to_no_one_signed_in(api, market_world):
    path = f"/api/v1/receipts/{market_world['ids']['code']}"
    assert api.get(path).status_code == 200
    for actor in MARKET_ACTORS:
        assert api.get(path, as_=market_world["actors"][actor]).status_code == 200
