"""Paying for an order and feedback to the community, on the pages: which ways to pay an order
offers (the orders service's own rule), the sandbox's page only for a sandbox payment, the
feedback form as the API's body and its errors next to their fields, and the planner's
buttons (notify's feedback rules). Services are a fake RPC client here."""

from __future__ import annotations

import re

import pytest

from services.common.auth import issue_token
from services.common.refusals import Conflict, NotFound
from services.web.pages.feedback import parse_subject, payload, subject_errors, subject_value
from services.web.pages.paying import choices, label
from services.web.pages.planner_feedback import offered

SECRET = "s" * 40
ORDER_ID = "ord_" + "1" * 32
SHOP_ID = "mer_" + "2" * 32
FEEDBACK_ID = "fbk_" + "3" * 32


def an_order(status="confirmed", pay="unpaid", method=None, cash=True, provider=None):
    return {
        "id": ORDER_ID, "status": status, "resident_id": "resident-li", "merchant_id": SHOP_ID,
        "merchant_name": "江汉社区书屋", "lines": [], "items": [], "total_fen": 10300,
        "items_total_fen": 9800, "delivery_fee_fen": 500, "note": None, "reason": None,
        "delivery": {"address": "民意街12号"}, "history": [],
        "created_at": "2026-12-01T01:00:00+00:00", "updated_at": "2026-12-01T01:00:00+00:00",
        "payment": {"method": method, "status": pay, "cash_allowed": cash, "provider": provider,
                    "reference": "sbx_1" if provider else None,
                    "pay_url": f"/api/v1/payments/sandbox/{ORDER_ID}" if pay == "pending"
                    else None, "amount_fen": 10300,
                    "paid_fen": 10300 if pay in ("paid", "refund_pending", "refunded") else 0,
                    "refunded_fen": 10300 if pay == "refunded" else 0, "history": []},
    }


def a_feedback(status="open", subject=("shop", SHOP_ID)):
    return {"id": FEEDBACK_ID, "resident_id": "resident-li", "community": "民意街社区",
            "kind": "complaint", "subject": {"type": subject[0], "id": subject[1]},
            "text": "秤好像不准", "photo_url": None, "status": status, "answers": [],
            "created_at": "2026-12-01T01:00:00+00:00", "updated_at": "2026-12-01T01:00:00+00:00"}


class FakeRpc:
    """Answers per (service, method); records every call."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def call(self, service, method, **kwargs):
        self.calls.append((service, method, kwargs))
        answer = self.answers[(service, method)]
        if isinstance(answer, Exception):
            raise answer
        return answer(**kwargs) if callable(answer) else answer


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("LIFECIRCLE_JWT_SECRET", SECRET)
    from services.gateway.app import create_app

    return create_app()


def signed_in(app, sub, role, answers):
    app.config["RPC"] = FakeRpc(answers)
    client = app.test_client()
    client.set_cookie("lc_session", issue_token(app.config["TOKENS"], sub, role))
    return client, app.config["RPC"]


def csrf_of(page: bytes) -> str:
    return re.search(rb'name="csrf-token" content="([0-9a-f]+)"', page).group(1).decode()


# --- which ways to pay, in whose words -------------------------------------------------------


def test_a_confirmed_unpaid_order_offers_online_and_cash_where_the_shop_takes_cash():
    assert choices(an_order()) == ["online", "cash"]
    assert choices(an_order(cash=False)) == ["online"]
    assert choices(an_order(method="cash")) == ["online"]  # cash chosen: online instead


def test_nothing_is_offered_before_confirmation_while_paying_or_once_paid():
    assert choices(an_order(status="pending")) == []
    assert choices(an_order(status="declined")) == []
    assert choices(an_order(pay="pending", method="online", provider="sandbox")) == []
    assert choices(an_order(pay="paid", method="online")) == []


def test_each_payment_state_has_its_words(app):
    with app.test_request_context("/"):
        words = [label(an_order(pay=p, method=m)["payment"]) for p, m in (
            ("unpaid", None), ("unpaid", "cash"), ("pending", "online"), ("paid", "online"),
            ("refund_pending", "online"), ("refunded", "online"))]
    assert words == ["未支付", "货到付现金", "支付处理中", "已支付", "退款处理中", "已退款"]


def test_the_order_page_shows_the_payment_and_offers_what_the_shop_allows(app):
    client, _rpc = signed_in(app, "resident-li", "resident",
                             {("orders", "get_order"): an_order(cash=False)})
    page = client.get(f"/r/orders/{ORDER_ID}").data.decode()
    assert 'id="payment-status" data-status="unpaid"' in page
    assert 'data-pay="online"' in page and "在线支付（103.00 元）" in page
    assert 'data-pay="cash"' not in page and "本店只收在线支付" in page


def test_paying_online_with_the_sandbox_leads_to_its_local_page_and_pays_there(app):
    pending = an_order(pay="pending", method="online", provider="sandbox")
    paid = an_order(pay="paid", method="online", provider="sandbox")
    client, rpc = signed_in(app, "resident-li", "resident", {
        ("orders", "get_order"): pending, ("orders", "start_payment"): pending,
        ("orders", "sandbox_pay"): paid})
    token = csrf_of(client.get(f"/r/orders/{ORDER_ID}").data)
    started = client.post(f"/r/orders/{ORDER_ID}/pay",
                          data={"method": "online", "csrf_token": token})
    assert started.status_code == 302
    assert started.headers["Location"].endswith(f"/r/orders/{ORDER_ID}/pay/sandbox")
    sandbox = client.get(started.headers["Location"]).data.decode()
    assert "支付沙箱" in sandbox and "103.00 元" in sandbox
    done = client.post(f"/r/orders/{ORDER_ID}/pay/sandbox",
                       data={"outcome": "paid", "csrf_token": token})
    assert done.status_code == 302 and "done=paid" in done.headers["Location"]
    assert ("orders", "start_payment", {"actor": {"sub": "resident-li", "role": "resident"},
                                        "order_id": ORDER_ID,
                                        "payment": {"method": "online"}}) in rpc.calls
    assert rpc.calls[-1][1] == "sandbox_pay" and rpc.calls[-1][2]["outcome"] == "paid"


def test_the_sandbox_page_is_not_there_for_a_real_provider_or_without_a_pending_payment(app):
    for order in (an_order(pay="pending", method="online", provider="wechatpay"),
                  an_order(pay="paid", method="online", provider="sandbox")):
        client, rpc = signed_in(app, "resident-li", "resident",
                                {("orders", "get_order"): order})
        assert client.get(f"/r/orders/{ORDER_ID}/pay/sandbox").status_code == 404
        assert [c[1] for c in rpc.calls] == ["get_order"]


def test_the_shop_sees_each_orders_payment(app):
    client, _rpc = signed_in(app, "merchant-books", "merchant", {
        ("catalog", "my_merchants"): {"items": [{"id": SHOP_ID, "name": "江汉社区书屋"}]},
        ("orders", "list_orders"): {"items": [an_order(pay="paid", method="online")]}})
    page = client.get("/shop/incoming").data.decode()
    assert page.count('data-payment="paid"') >= 1 and "已支付" in page


# --- feedback ---------------------------------------------------------------------------------


def test_the_subject_control_is_the_apis_two_fields():
    assert subject_value("shop", SHOP_ID) == f"shop:{SHOP_ID}"
    assert subject_value(None, None) == subject_value("other", "x") == "other"
    assert parse_subject(f"repair:rep_{'4' * 32}") == ("repair", f"rep_{'4' * 32}")
    assert parse_subject("other") == ("other", None) and parse_subject(None) == ("other", None)
    body = payload({"subject": f"shop:{SHOP_ID}", "kind": "complaint", "text": " 秤不准 ",
                    "photo_url": ""})
    assert body == {"subject_type": "shop", "subject_id": SHOP_ID, "kind": "complaint",
                    "text": "秤不准"}
    assert subject_errors({"subject_id": ["not a valid id"], "text": ["x"]}) == {
        "subject": ["not a valid id"], "text": ["x"]}


def resident_answers(sent=None, orders=None):
    return {("orders", "list_orders"): {"items": [an_order()] if orders is None else orders},
            ("dispatch", "list_repairs"): {"items": []},
            ("notify", "list_feedback"): {"items": [a_feedback("answered")]},
            ("catalog", "get_merchant"): {"id": SHOP_ID, "name": "江汉社区书屋"},
            ("notify", "send_feedback"): sent}


def test_a_shops_link_fills_in_the_subject_and_her_feedback_is_listed(app):
    client, _rpc = signed_in(app, "resident-li", "resident", resident_answers())
    page = client.get(f"/r/feedback/?subject_type=shop&subject_id={SHOP_ID}").data.decode()
    assert f'<option value="shop:{SHOP_ID}" selected>店铺：江汉社区书屋</option>' in page
    assert f'data-feedback="{FEEDBACK_ID}"' in page and 'data-status="answered"' in page
    # a shop she never ordered from is named by the catalog, in the form and in her list
    client, rpc = signed_in(app, "resident-li", "resident", resident_answers(orders=[]))
    page = client.get("/r/feedback/list").data.decode()
    assert "店铺：江汉社区书屋" in page
    assert ("catalog", "get_merchant", {"merchant_id": SHOP_ID}) in rpc.calls


def test_a_tampered_link_chooses_nothing_and_asks_no_service_about_it(app):
    client, rpc = signed_in(app, "resident-li", "resident", resident_answers())
    page = client.get("/r/feedback/?subject_type=shop&subject_id=../x").data.decode()
    assert '<option value="other" selected>' in page
    assert "get_merchant" not in [c[1] for c in rpc.calls]


def test_a_feedback_without_text_or_with_a_plain_http_photo_is_refused_next_to_the_fields(app):
    client, rpc = signed_in(app, "resident-li", "resident", resident_answers())
    token = csrf_of(client.get("/r/feedback/").data)
    answer = client.post("/r/feedback/", data={
        "subject": f"shop:{SHOP_ID}", "kind": "complaint", "text": "",
        "photo_url": "http://example.com/a.jpg", "csrf_token": token})
    page = answer.data.decode()
    assert answer.status_code == 422
    assert 'id="err-text"' in page and 'id="err-photo_url"' in page
    assert "http://example.com/a.jpg" in page  # what she typed stays
    assert "send_feedback" not in [c[1] for c in rpc.calls]


def test_a_resident_without_a_community_is_told_to_set_one(app):
    refusal = Conflict("set your home and its community first "
                       "(PUT /api/v1/me/notification-preferences)", code="no_community")
    client, _rpc = signed_in(app, "resident-li", "resident",
                             resident_answers(refusal))
    token = csrf_of(client.get("/r/feedback/").data)
    answer = client.post("/r/feedback/", data={"subject": "other", "text": "路灯坏了",
                                               "csrf_token": token})
    assert answer.status_code == 422
    assert "请先在设置中填写您的家和所在社区" in answer.data.decode()


def test_sent_feedback_goes_as_the_apis_body_and_back_to_the_list(app):
    made = a_feedback()
    client, rpc = signed_in(app, "resident-li", "resident",
                            resident_answers(made))
    token = csrf_of(client.get("/r/feedback/").data)
    answer = client.post("/r/feedback/", data={"subject": f"shop:{SHOP_ID}",
                                               "kind": "complaint", "text": "秤好像不准",
                                               "csrf_token": token})
    assert answer.status_code == 302 and "done=feedback_sent" in answer.headers["Location"]
    sent = next(c[2]["feedback"] for c in rpc.calls if c[1] == "send_feedback")
    assert sent == {"kind": "complaint", "subject_type": "shop", "subject_id": SHOP_ID,
                    "text": "秤好像不准", "photo_url": None}


def test_the_planner_may_answer_and_close_what_is_open_or_answered_and_nothing_closed():
    assert offered("open") == offered("answered") == ["answer", "close"]
    assert offered("closed") == []


def test_the_planners_queue_lists_open_first_and_a_shops_view_filters_by_it(app):
    def listed(actor, query):
        return {"items": [a_feedback(query["status"])], "total": 1}

    client, rpc = signed_in(app, "planner-jianghan", "planner", {
        ("notify", "list_feedback"): listed,
        ("catalog", "get_merchant"): {"id": SHOP_ID, "name": "江汉社区书屋",
                                      "business_type": "bookstore", "address": "民意一路5号"}})
    page = client.get("/p/feedback/").data.decode()
    assert page.index('id="queue-open"') < page.index('id="queue-answered"') \
        < page.index('id="queue-closed"')
    shop_view = client.get(f"/p/feedback/?subject_type=shop&subject_id={SHOP_ID}")
    assert 'id="subject-shop"' in shop_view.data.decode()
    queries = [c[2]["query"] for c in rpc.calls if c[1] == "list_feedback"]
    assert all(q["subject_id"] == SHOP_ID for q in queries[3:]) and len(queries) == 6
    assert client.get("/p/feedback/?subject_type=shop&subject_id=bad").status_code == 422


def test_an_answer_needs_words_a_close_does_not(app):
    client, rpc = signed_in(app, "planner-jianghan", "planner", {
        ("notify", "get_feedback"): a_feedback(), ("catalog", "get_merchant"): NotFound("x"),
        ("notify", "reply_feedback"): a_feedback("closed")})
    token = csrf_of(client.get(f"/p/feedback/{FEEDBACK_ID}").data)
    empty = client.post(f"/p/feedback/{FEEDBACK_ID}/answer",
                        data={"answer.text": " ", "csrf_token": token})
    assert empty.status_code == 422 and 'id="err-answer-text"' in empty.data.decode()
    closed = client.post(f"/p/feedback/{FEEDBACK_ID}/close", data={"csrf_token": token})
    assert closed.status_code == 302 and "done=closed" in closed.headers["Location"]
    assert [(c[1], c[2].get("action"), c[2].get("text")) for c in rpc.calls
            if c[1] == "reply_feedback"] == [("reply_feedback", "close", None)]
