"""The gateway's read cache: public catalog answers served from memory, never after the
catalog said they changed, never past their lifetime, never to a caller the view would
refuse."""

from __future__ import annotations

from services.common.auth import TokenSettings, issue_token
from services.common.events import make_event
from services.gateway.catalog_events import apply
from services.gateway.readcache import ReadCache, ReadCacheMiddleware
from services.gateway.security import RateLimiter

TOKENS = TokenSettings(secret="s" * 40, public_key=None, algorithm="HS256",
                       issuer="lifecircle", dev_tokens=False, ttl_seconds=600)
PRODUCT = "prd_" + "a" * 32
MERCHANT = "mer_" + "b" * 32


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class FakeCatalog:
    """The Flask app behind the cache: counts how often it is asked, answers a price."""

    def __init__(self):
        self.calls = 0
        self.price = 100
        self.status = "200 OK"
        self.during_call = lambda: None

    def __call__(self, environ, start_response):
        self.calls += 1
        self.during_call()
        start_response(self.status, [("Content-Type", "application/json")])
        return [f'{{"price_fen": {self.price}}}'.encode()]


def make(seconds=30.0):
    clock, app = Clock(), FakeCatalog()
    cache = ReadCache(seconds, clock=clock)
    return ReadCacheMiddleware(app, cache, TOKENS, RateLimiter(0, 1)), app, cache, clock


def get(middleware, path=f"/api/v1/products/{PRODUCT}", token=True, method="GET", sub="li"):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": ""}
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(TOKENS, sub, 'resident')}"
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(middleware(environ, start_response))
    return seen["status"], seen["headers"], body


def product_changed():
    return make_event("product_changed", {"product_id": PRODUCT, "merchant_id": MERCHANT,
                                          "change": "updated"},
                      source="catalog", correlation_id=PRODUCT)


def test_a_second_read_of_a_product_is_answered_from_memory():
    middleware, app, _cache, _clock = make()
    assert get(middleware)[1]["X-Cache"] == "miss"
    status, headers, body = get(middleware)
    assert (status, headers["X-Cache"], body) == ("200 OK", "hit", b'{"price_fen": 100}')
    assert app.calls == 1


def test_after_the_catalog_says_a_product_changed_the_new_price_is_read():
    middleware, app, cache, _clock = make()
    get(middleware)
    app.price = 250
    apply(cache, product_changed())
    assert get(middleware)[2] == b'{"price_fen": 250}'


def test_a_change_to_another_product_keeps_this_copy():
    middleware, app, cache, _clock = make()
    get(middleware)
    apply(cache, make_event("product_changed", {"product_id": "prd_" + "c" * 32,
                                                "merchant_id": MERCHANT, "change": "updated"},
                            source="catalog", correlation_id="x"))
    get(middleware)
    assert app.calls == 1


def test_a_copy_never_outlives_its_lifetime():
    middleware, app, _cache, clock = make(seconds=0.5)
    get(middleware)
    app.price = 300
    clock.now += 0.6
    assert get(middleware)[2] == b'{"price_fen": 300}'


def test_a_change_that_lands_while_the_product_is_read_does_not_keep_the_old_copy():
    middleware, app, cache, _clock = make()
    app.during_call = lambda: apply(cache, product_changed())
    get(middleware)
    app.during_call = lambda: None
    app.price = 400
    assert get(middleware)[2] == b'{"price_fen": 400}'


def test_a_write_through_this_gateway_outdates_every_copy_at_once():
    middleware, app, _cache, _clock = make()
    get(middleware)
    get(middleware, method="PATCH")
    app.price = 500
    assert get(middleware)[2] == b'{"price_fen": 500}'


def test_a_caller_without_a_token_is_answered_by_the_view_itself_not_the_copy():
    middleware, app, _cache, _clock = make()
    get(middleware)
    app.status = "401 UNAUTHORIZED"
    status, _headers, _ = get(middleware, token=False)
    assert status == "401 UNAUTHORIZED" and app.calls == 2


def test_errors_are_not_kept():
    middleware, app, _cache, _clock = make()
    app.status = "404 NOT FOUND"
    get(middleware)
    get(middleware)
    assert app.calls == 2


def test_an_event_that_cannot_be_read_outdates_everything():
    middleware, app, cache, _clock = make()
    get(middleware)
    apply(cache, {"type": "product_changed", "garbage": True})
    get(middleware)
    assert app.calls == 2


def test_lists_and_owner_only_paths_are_never_kept():
    middleware, app, _cache, _clock = make()
    for _ in range(2):
        get(middleware, path=f"/api/v1/products/{PRODUCT}/stock-history")
        get(middleware, path="/api/v1/orders")
    assert app.calls == 4


ORDER = "/api/v1/orders/ord_" + "d" * 32


def test_an_order_is_kept_for_the_person_who_read_it_and_nobody_else():
    middleware, app, _cache, _clock = make()
    get(middleware, path=ORDER, sub="li")
    assert get(middleware, path=ORDER, sub="li")[1]["X-Cache"] == "hit"
    app.status = "404 NOT FOUND"  # what the orders service tells a stranger
    assert get(middleware, path=ORDER, sub="stranger")[0] == "404 NOT FOUND"
    assert app.calls == 2


def test_an_order_event_or_an_action_on_it_outdates_the_copy():
    from services.gateway.readcache import order_tags

    middleware, app, cache, _clock = make()
    get(middleware, path=ORDER)
    app.price = 700
    cache.invalidate(order_tags("ord_" + "d" * 32))
    assert get(middleware, path=ORDER)[2] == b'{"price_fen": 700}'
    app.price = 800
    get(middleware, path=ORDER + "/cancel", method="POST")
    assert get(middleware, path=ORDER)[2] == b'{"price_fen": 800}'


def test_reading_a_notification_outdates_that_persons_inbox():
    middleware, app, _cache, _clock = make()
    get(middleware, path="/api/v1/notifications")
    app.price = 900
    get(middleware, path="/api/v1/notifications/ntf_" + "e" * 32 + "/read", method="POST")
    assert get(middleware, path="/api/v1/notifications")[2] == b'{"price_fen": 900}'


def test_a_copy_near_the_end_of_its_life_is_refreshed_by_one_reader():
    middleware, app, _cache, clock = make(seconds=1.0)
    get(middleware)
    app.price = 600
    clock.now += 0.8
    assert get(middleware)[2] == b'{"price_fen": 600}'  # read anew
    assert app.calls == 2
    assert get(middleware)[1]["X-Cache"] == "hit"
