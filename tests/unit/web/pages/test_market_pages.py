"""The receipt, market manager and recycling pages without services: a fake RPC client
answers as the catalog would, so what each role may open, what the forms send, and what the
pages show (money in 元 from fen, nothing about the buyer) are checked here."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.common.auth import issue_token
from services.common.refusals import Forbidden, NotFound

SECRET = "s" * 40
CODE = "7K3M9QX2AB"
MARKET = {"id": "mkt_" + "1" * 32, "name": "民意菜场", "manager_id": "manager-minyi",
          "stall_ids": ["mer_" + "2" * 32], "created_at": "2026-12-01T00:00:00+00:00"}
POINT = {"id": "mer_" + "3" * 32, "name": "民意社区智能回收站", "business_type": "recycling"}
RECEIPT = {"code": CODE, "stall": {"id": "mer_" + "2" * 32, "name": "王阿姨蔬菜摊"},
           "product": {"id": "prd_" + "4" * 32, "name": "本地上海青"}, "grams": 750,
           "unit_price_fen": 300, "price_per": "500g", "total_fen": 450,
           "weighed_at": "2026-12-01T02:05:00+00:00",
           "batch": {"code": "DXH-1129", "origin": "湖北武汉东西湖", "supplier": "东西湖蔬菜合作社",
                     "arrived_on": "2026-11-29"}}


class FakeRpc:
    """Answers RPCs from a table (a value, or a function of the call's keywords)."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.answers: dict = {
            "get_receipt": lambda code, **_: RECEIPT if code == CODE else _raise(
                NotFound("no such receipt")),
            "flag_receipt": {"code": CODE, "flagged": True},
            "my_markets": lambda actor: {"items": [MARKET] if actor["sub"] == "manager-minyi"
                                         else []},
            "market_day": lambda day, **_: {"market_id": MARKET["id"], "day": day, "stalls": [
                {"merchant_id": "mer_" + "2" * 32, "name": "王阿姨蔬菜摊", "weighings": 3,
                 "grams": 2250, "total_fen": 1350, "mismatched": 1, "flagged": 1}]},
            "market_mismatches": lambda day, **_: {"market_id": MARKET["id"], "day": day,
                                                   "items": [
                {**RECEIPT, "device_id": "dev_x", "flags": 1, "stock_taken": True,
                 "mismatches": []},
                {**RECEIPT, "code": "7K3M9QX2AC", "device_id": "dev_x", "flags": 0,
                 "stock_taken": True, "mismatches": [
                     {"kind": "total", "posted": 500, "catalog": 450}]}]},
            "my_merchants": lambda actor: {"items": [POINT] if actor["sub"] == "recycler"
                                           else []},
            "get_recycling_rates": {"merchant_id": POINT["id"], "updated_at": "x", "rates": {
                "paper": 800, "plastic": 1200, "metal": 2500, "textile": 300}},
            "recycling_intake": lambda day, **_: {
                "merchant_id": POINT["id"], "day": day, "drop_offs": 1, "credited_fen": 3625,
                "amount_differs": 0,
                "grams": {"paper": 3250, "plastic": 0, "metal": 410, "textile": 0}},
            "post_recycling_rates": lambda rates, **_: {"rates": rates},
            "recycling_credits": {"resident_id": "resident-zhang", "credit_fen": 3625,
                                  "drop_offs": 1, "recent": [
                {"id": "dev_y:demo-0001", "merchant_id": POINT["id"], "credited_fen": 3625,
                 "box_amount_fen": 3625, "amount_differs": False,
                 "weighed_at": "2026-12-01T02:00:00+00:00",
                 "items": [{"category": "paper", "grams": 3250},
                           {"category": "metal", "grams": 410}]}]},
            "get_merchant": POINT,
            "issue_drop_off_code": {"code": "ABCD2345",
                                    "expires_at": "2026-12-01T02:10:00+00:00"},
        }

    def call(self, service, method, timeout=None, **kwargs):
        self.calls.append((method, kwargs))
        answer = self.answers[method]
        return answer(**kwargs) if callable(answer) else answer


def _raise(exc):
    raise exc


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("LIFECIRCLE_JWT_SECRET", SECRET)
    monkeypatch.setenv("LIFECIRCLE_DEV_TOKENS", "1")
    from services.gateway.app import create_app

    app = create_app()
    app.config["RPC"] = FakeRpc()
    return app


def client_as(app, sub=None, role=None):
    client = app.test_client()
    if sub:
        client.set_cookie("lc_session", issue_token(app.config["TOKENS"], sub, role))
    return client


def csrf_of(page: bytes) -> str:
    return re.search(rb'name="csrf-token" content="([0-9a-f]+)"', page).group(1).decode()


def text_of(answer) -> str:
    return re.sub(r"\s+", " ", answer.data.decode())


def test_anyone_signed_out_reads_a_receipt_with_its_batch_and_nothing_of_the_buyer(app):
    page = client_as(app).get(f"/receipt/{CODE}")
    assert page.status_code == 200
    html = text_of(page)
    for shown in ("王阿姨蔬菜摊", "本地上海青", "750 g", "3.00 元", "4.50 元", "湖北武汉东西湖",
                  "东西湖蔬菜合作社", "2026-11-29", "2026-12-01 10:05"):  # 10:05 in Wuhan
        assert shown in html, shown
    assert "resident" not in html and "dev_" not in html
    assert 'name="reason"' not in html and "/signin?next=" in html  # sign in to flag


def test_an_unknown_or_malformed_receipt_code_gets_the_kind_404_page(app):
    client = client_as(app)
    for path in ("/receipt/0000000000", "/receipt/not-a-code", "/receipt/7K3M9QX2A"):
        page = client.get(path)
        assert page.status_code == 404 and "kind-error" in page.data.decode(), path


def test_the_code_form_opens_the_receipt_or_says_what_a_code_looks_like(app):
    client = client_as(app)
    found = client.get("/receipt?code= 7k3m9qx2ab ")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/receipt/{CODE}")
    wrong = client.get("/receipt?code=12")
    assert wrong.status_code == 422
    assert "小票码是二维码下方印的 10 位字母和数字。" in text_of(wrong)


def test_a_resident_flags_a_receipt_with_the_schemas_field_errors_and_csrf(app):
    client = client_as(app, "resident-li", "resident")
    csrf = csrf_of(client.get(f"/receipt/{CODE}").data)
    assert client.post(f"/receipt/{CODE}/flag", data={"reason": "少了"}).status_code == 403
    empty = client.post(f"/receipt/{CODE}/flag", data={"reason": " ", "csrf_token": csrf})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.data.decode()
    done = client.post(f"/receipt/{CODE}/flag", data={"reason": "到家称只有600克",
                                                       "csrf_token": csrf})
    assert done.status_code == 302 and "done=flagged" in done.headers["Location"]
    assert ("flag_receipt", {"actor": {"sub": "resident-li", "role": "resident"},
                             "code": CODE, "flag": {"reason": "到家称只有600克"}}) \
        in app.config["RPC"].calls


def test_only_a_resident_is_offered_or_allowed_the_flag(app):
    client = client_as(app, "merchant-wang", "merchant")
    page = client.get(f"/receipt/{CODE}")
    assert page.status_code == 200 and 'name="reason"' not in page.data.decode()
    csrf = csrf_of(page.data)
    assert client.post(f"/receipt/{CODE}/flag", data={"reason": "x", "csrf_token": csrf}) \
        .status_code == 403
    signed_out = client_as(app)
    csrf = csrf_of(signed_out.get(f"/receipt/{CODE}").data)
    answer = signed_out.post(f"/receipt/{CODE}/flag", data={"reason": "x", "csrf_token": csrf})
    assert answer.status_code == 302 and "/signin" in answer.headers["Location"]


@pytest.mark.parametrize(("sub", "role", "path"), [
    ("resident-li", "resident", "/m/"), ("merchant-wang", "merchant", "/m/mismatches"),
    ("planner-jianghan", "planner", "/m/mismatches/live"),
    ("manager-minyi", "market_manager", "/r/recycling"),
    ("manager-minyi", "market_manager", "/shop/recycling"),
    ("resident-zhang", "resident", "/shop/recycling"),
])
def test_the_new_pages_are_closed_to_other_roles(app, sub, role, path):
    page = client_as(app, sub, role).get(path)
    assert page.status_code == 403 and "kind-error" in page.data.decode()


def test_signed_out_the_role_pages_send_to_sign_in(app):
    for path in ("/m/", "/r/recycling", "/shop/recycling"):
        answer = client_as(app).get(path)
        assert answer.status_code == 302 and "/signin" in answer.headers["Location"], path


def test_the_manager_sees_each_stalls_day_and_the_flagged_and_mismatched_receipts(app):
    client = client_as(app, "manager-minyi", "market_manager")
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    home = text_of(client.get("/m/"))
    assert "王阿姨蔬菜摊" in home and "13.50 元" in home and today in home
    assert ("market_day", {"actor": {"sub": "manager-minyi", "role": "market_manager"},
                           "market_id": MARKET["id"], "day": today}) in app.config["RPC"].calls
    page = text_of(client.get("/m/mismatches?day=2026-12-01"))
    flagged = page.split('id="flagged-list"')[1].split("</ul>")[0]
    mismatched = page.split('id="mismatch-list"')[1].split("</ul>")[0]
    assert CODE in flagged and "7K3M9QX2AC" not in flagged
    assert "7K3M9QX2AC" in mismatched and "总价与系统不符" in mismatched
    assert "秤上 5.00 元，系统 4.50 元" in mismatched


def test_a_bad_day_is_the_kind_422_page_and_a_manager_without_a_market_is_told(app):
    client = client_as(app, "manager-minyi", "market_manager")
    assert client.get("/m/?day=2026-13-01").status_code == 422
    nobody = client_as(app, "manager-new", "market_manager")
    assert "您还没有管理的市场" in text_of(nobody.get("/m/"))


def test_a_resident_sees_the_credit_and_gets_a_drop_off_code(app):
    client = client_as(app, "resident-zhang", "resident")
    page = text_of(client.get("/r/recycling"))
    assert "36.25 元" in page and "纸类 3250 g" in page and "民意社区智能回收站" in page
    csrf = csrf_of(client.get("/r/recycling").data)
    with_code = text_of(client.post("/r/recycling/code", data={"csrf_token": csrf}))
    assert "ABCD2345" in with_code and "10:10" in with_code  # expiry in Wuhan time


def test_the_recycling_point_sees_the_days_intake_and_posts_rates_in_yuan_as_exact_fen(app):
    client = client_as(app, "recycler", "merchant")
    page = text_of(client.get("/shop/recycling?day=2026-12-01"))
    assert "3250 g" in page and "36.25 元" in page and 'value="25.00"' in page
    csrf = csrf_of(client.get("/shop/recycling").data)
    rates = {"paper": "0.8", "plastic": "12", "metal": "25.05", "textile": "0.03"}
    saved = client.post("/shop/recycling", data={**rates, "csrf_token": csrf})
    assert saved.status_code == 302 and "done=saved" in saved.headers["Location"]
    posted = [kw for m, kw in app.config["RPC"].calls if m == "post_recycling_rates"]
    assert posted[-1]["rates"] == {"paper": 80, "plastic": 1200, "metal": 2505, "textile": 3}
    bad = client.post("/shop/recycling", data={**rates, "metal": "lots", "csrf_token": csrf})
    assert bad.status_code == 422
    assert 'id="f-metal" name="metal" type="text" value="lots" aria-invalid="true"' \
        in bad.data.decode()


def test_a_shopkeeper_without_a_recycling_point_is_told_so(app):
    page = client_as(app, "merchant-wang", "merchant").get("/shop/recycling")
    assert page.status_code == 200 and "您的店铺都不是回收站" in text_of(page)


def test_a_refusal_from_the_catalog_is_the_kind_page(app):
    app.config["RPC"].answers["market_day"] = lambda **_: _raise(Forbidden("not yours"))
    page = client_as(app, "manager-minyi", "market_manager").get("/m/")
    assert page.status_code == 403 and "kind-error" in page.data.decode()


def test_the_demo_market_manager_is_offered_on_the_sign_in_page(app):
    page = text_of(client_as(app).get("/signin"))
    assert 'data-sub="manager-minyi"' in page and "市场管理员" in page
