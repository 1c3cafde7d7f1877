"""A small, real-looking circle in Wuhan's Jianghan district, loaded through the public API
(as a merchant would), and a walk-through a new user can paste into a shell."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from services.common.config import setting

CENTRE = {"lat": 30.5801, "lng": 114.2701}  # 民意街道, 江汉区, 武汉

DAILY_7_TO_22 = {d: [["07:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

MERCHANTS: list[dict[str, Any]] = [
    {
        "owner": "merchant-huimin",
        "shop": {
            "name": "惠民便利店", "business_type": "convenience_store",
            "secondary_types": ["photo_print", "repair_point"],
            "location": {"lat": 30.5806, "lng": 114.2712}, "address": "江汉区民意四路18号",
            "phone": "027-85550101", "opening_hours": ALL_DAY,
            "delivery": {"max_walk_minutes": 15, "fee_fen": 0, "min_order_fen": 0},
        },
        "products": [
            {"name": "农夫山泉 550ml", "unit": "瓶", "price_fen": 200, "stock": 120},
            {"name": "鸡蛋 10枚", "unit": "盒", "price_fen": 1290, "stock": 30},
            {"name": "挂面 1kg", "unit": "袋", "price_fen": 850, "stock": 40},
        ],
    },
    {
        "owner": "merchant-wang",
        "shop": {
            "name": "民意菜场·王阿姨蔬菜摊", "business_type": "wet_market",
            "secondary_types": ["fresh_produce"],
            "location": {"lat": 30.5789, "lng": 114.2694}, "address": "江汉区民意菜场A区12号",
            "opening_hours": {d: [["06:00", "19:00"]] for d in DAILY_7_TO_22},
            "delivery": {"max_walk_minutes": 10, "fee_fen": 200, "min_order_fen": 1000},
        },
        "products": [
            {"name": "本地上海青", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
             "price_fen": 300, "stock": 20000,
             "origin": {"supplier": "东西湖蔬菜合作社", "place": "湖北武汉东西湖",
                        "batch": "DXH-1129", "arrival_date": "2026-11-29"}},
            {"name": "土鸡蛋", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
             "price_fen": 1200, "stock": 15000,
             "origin": {"supplier": "恩施山地养殖场", "place": "湖北恩施",
                        "batch": "ES-1127", "arrival_date": "2026-11-27"}},
            {"name": "洪湖莲藕", "sale_mode": "by_weight", "price_per": "kg", "unit": "公斤",
             "price_fen": 980, "stock": 30000,
             "origin": {"supplier": "洪湖水产", "place": "湖北洪湖", "batch": "HH-1128",
                        "arrival_date": "2026-11-28"}},
        ],
    },
    {
        "owner": "merchant-liu",
        "shop": {
            "name": "民意菜场·刘记鲜肉", "business_type": "wet_market",
            "location": {"lat": 30.5790, "lng": 114.2695}, "address": "江汉区民意菜场B区3号",
            "opening_hours": {d: [["06:00", "18:00"]] for d in DAILY_7_TO_22},
            "delivery": {"max_walk_minutes": 10, "fee_fen": 200, "min_order_fen": 2000},
        },
        "products": [
            {"name": "五花肉", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
             "price_fen": 1680, "stock": 25000,
             "origin": {"supplier": "孝感生猪定点屠宰场", "place": "湖北孝感",
                        "batch": "XG-1130", "arrival_date": "2026-11-30"}},
        ],
    },
    {
        "owner": "merchant-recycle",
        "shop": {
            "name": "民意社区智能回收站", "business_type": "recycling",
            "location": {"lat": 30.5798, "lng": 114.2709}, "address": "江汉区民意街8号楼下",
            "opening_hours": ALL_DAY,
        },
        "products": [],
    },
    {
        "owner": "merchant-canteen",
        "shop": {
            "name": "民意街社区长者食堂", "business_type": "elderly_care",
            "location": {"lat": 30.5812, "lng": 114.2698},
            "address": "江汉区民意街社区服务中心一楼",
            "opening_hours": {d: [["10:30", "13:30"], ["16:30", "19:00"]]
                              for d in DAILY_7_TO_22},
            "delivery": {"max_walk_minutes": 15, "fee_fen": 0, "min_order_fen": 0},
        },
        "products": [
            {"name": "两荤一素套餐", "unit": "份", "price_fen": 1600, "stock": 60},
            {"name": "小米南瓜粥", "unit": "碗", "price_fen": 300, "stock": 40},
        ],
    },
    {
        "owner": "merchant-pharmacy",
        "shop": {
            "name": "民康大药房", "business_type": "pharmacy",
            "location": {"lat": 30.5795, "lng": 114.2725}, "address": "江汉区新华路201号",
            "opening_hours": {d: [["08:00", "22:00"]] for d in DAILY_7_TO_22},
            "delivery": {"max_walk_minutes": 15, "fee_fen": 0, "min_order_fen": 0},
        },
        "products": [
            {"name": "布洛芬缓释胶囊 0.3g×20粒", "unit": "盒", "price_fen": 2350, "stock": 25},
            {"name": "医用外科口罩 10只", "unit": "包", "price_fen": 990, "stock": 80},
        ],
    },
    {
        "owner": "merchant-books",
        "shop": {
            "name": "江汉社区书屋", "business_type": "bookstore",
            "location": {"lat": 30.5821, "lng": 114.2731}, "address": "江汉区民意一路5号",
            "opening_hours": {d: [["09:00", "21:00"]] for d in DAILY_7_TO_22},
            "delivery": {"max_walk_minutes": 15, "fee_fen": 500, "min_order_fen": 2000},
            "cash_on_delivery": False,  # online payment only (docs/payments.md)
        },
        "products": [
            {"name": "大字版《红楼梦》", "unit": "套", "price_fen": 9800, "stock": 5},
        ],
    },
]

ALL_WEEK_SHIFT = {d: [["08:00", "22:00"]] for d in DAILY_7_TO_22}
TECHNICIANS = [
    {"sub": "tech-wang", "name": "王师傅", "skills": ["electrical", "plumbing"],
     "home": {"lat": 30.5815, "lng": 114.2690}, "travel_mode": "ebike", "shifts": ALL_DAY},
    {"sub": "tech-zhao", "name": "赵师傅", "skills": ["locks", "appliances", "plumbing"],
     "home": {"lat": 30.5772, "lng": 114.2733}, "travel_mode": "walking",
     "shifts": ALL_WEEK_SHIFT},
    {"sub": "barber-liu", "name": "刘师傅（上门理发）", "skills": ["haircut_home"],
     "home": {"lat": 30.5830, "lng": 114.2745}, "travel_mode": "ebike",
     "shifts": ALL_WEEK_SHIFT},
]

COMMUNITY = "民意街社区"
RESIDENTS = {
    "resident-li": {"name": "李奶奶", "address": "江汉区民意街12号3单元502",
                    "location": {"lat": 30.5803, "lng": 114.2705}, "community": COMMUNITY},
    "resident-zhang": {"name": "张先生", "address": "江汉区民意四路7号1单元201",
                       "location": {"lat": 30.5799, "lng": 114.2716}, "community": COMMUNITY},
}


class Client:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.tokens: dict[str, str] = {}

    def token(self, sub: str, role: str) -> str:
        if sub not in self.tokens:
            r = requests.post(f"{self.base_url}/api/v1/auth/dev-token",
                              json={"sub": sub, "role": role}, timeout=10)
            r.raise_for_status()
            self.tokens[sub] = r.json()["access_token"]
        return self.tokens[sub]

    def call(self, method: str, path: str, sub: str, role: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(sub, role)}", **kw.pop("headers", {})}
        r = requests.request(method, f"{self.base_url}{path}", headers=headers, timeout=10, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {r.status_code} {r.text}")
        return r.json()


def load(base_url: str, data_dir: Path) -> dict[str, Any]:
    """Create the demo circle unless this data directory already has it."""
    marker = data_dir / "demo.json"
    client = Client(base_url)
    if marker.exists():
        ids = json.loads(marker.read_text())
        r = requests.get(f"{base_url}/api/v1/merchants/{ids['merchants']['merchant-canteen']}",
                         headers={"Authorization": "Bearer " + client.token("admin", "admin")},
                         timeout=10)
        if r.status_code == 200:
            return ids
    ids: dict[str, Any] = {"merchants": {}, "products": {}}
    for entry in MERCHANTS:
        shop = client.call("POST", "/api/v1/merchants", entry["owner"], "merchant",
                           json=entry["shop"])
        ids["merchants"][entry["owner"]] = shop["id"]
        for product in entry["products"]:
            made = client.call("POST", f"/api/v1/merchants/{shop['id']}/products",
                               entry["owner"], "merchant", json=product)
            ids["products"][product["name"]] = made["id"]
    ids["technicians"] = {}
    for tech in TECHNICIANS:
        made = client.call("POST", "/api/v1/technicians", "dispatcher-jianghan", "dispatcher",
                           json=tech)
        ids["technicians"][tech["sub"]] = made["id"]
        client.call("PATCH", "/api/v1/technicians/me/status", tech["sub"], "technician",
                    json={"status": "available"})
    # Their saved address (offered at checkout) and their community, 民意街社区, whose planner
    # answers their feedback (意见反馈).
    for sub, person in RESIDENTS.items():
        client.call("PUT", "/api/v1/me/notification-preferences", sub, "resident",
                    json={"home": {"location": person["location"], "address": person["address"],
                                   "community": person["community"]}})
    client.call("PUT", "/api/v1/admin/planners", "admin", "admin",
                json={"sub": "planner-jianghan", "communities": [COMMUNITY]})
    ids["market"] = load_market(client, ids)
    ids["recycling"] = load_recycling(client, ids)
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(ids, ensure_ascii=False, indent=2))
    return ids


MARKET_MANAGER = "manager-minyi"
MARKET_STALLS = ("merchant-wang", "merchant-liu")


def load_market(client: Client, ids: dict[str, Any]) -> dict[str, Any]:
    """民意菜场: its manager, two stalls with a smart scale each, and one sale's receipt."""
    market = client.call("POST", "/api/v1/markets", MARKET_MANAGER, "market_manager",
                         json={"name": "民意菜场"})
    scales = {}
    for owner in MARKET_STALLS:
        stall = ids["merchants"][owner]
        client.call("POST", f"/api/v1/markets/{market['id']}/stalls", owner, "merchant",
                    json={"merchant_id": stall})
        scale = client.call("POST", f"/api/v1/merchants/{stall}/devices", owner, "merchant",
                            json={"kind": "scale", "name": "电子秤1号"})
        scales[owner] = {"id": scale["id"], "token": scale["token"]}
    # 王阿姨 weighs 750 g of greens (3 yuan a jin) from the batch on the product's label.
    r = requests.post(f"{client.base_url}/api/v1/scales/weighings", timeout=10,
                      headers={"X-Device-Token": scales["merchant-wang"]["token"]},
                      json={"sequence": "demo-0001", "product_id": ids["products"]["本地上海青"],
                            "grams": 750, "unit_price_fen": 300, "total_fen": 450,
                            "weighed_at": _now_iso(), "batch": "DXH-1129"})
    r.raise_for_status()
    return {"id": market["id"], "scales": scales, "receipt": r.json()["code"]}


def _now_iso() -> str:
    """When a demo device weighs: now (a device posts what it just weighed)."""
    return datetime.now(UTC).isoformat()


def _today() -> str:
    """The market's calendar day now (CITY_TZ): the day the demo's weighings are counted in."""
    return datetime.now(ZoneInfo(setting(None, "CITY_TZ"))).date().isoformat()


RECYCLING_RATES = {"paper": 800, "plastic": 1200, "metal": 2500, "textile": 300}  # fen/kg


def load_recycling(client: Client, ids: dict[str, Any]) -> dict[str, Any]:
    """The recycling point's rates and box, and 张先生's first drop-off."""
    point = ids["merchants"]["merchant-recycle"]
    client.call("PUT", f"/api/v1/merchants/{point}/recycling-rates", "merchant-recycle",
                "merchant", json=RECYCLING_RATES)
    box = client.call("POST", f"/api/v1/merchants/{point}/devices", "merchant-recycle",
                      "merchant", json={"kind": "recycling_box", "name": "1号回收箱"})
    code = client.call("POST", "/api/v1/recycling/drop-off-codes", "resident-zhang",
                       "resident")["code"]
    r = requests.post(f"{client.base_url}/api/v1/recycling/drop-offs", timeout=10,
                      headers={"X-Device-Token": box["token"]},
                      json={"sequence": "demo-0001", "code": code, "amount_fen": 3625,
                            "items": [{"category": "paper", "grams": 3250},
                                      {"category": "metal", "grams": 410}],
                            "weighed_at": _now_iso()})
    r.raise_for_status()
    return {"id": point, "box": {"id": box["id"], "token": box["token"]}}


def walkthrough(base_url: str, ids: dict[str, Any]) -> str:
    canteen = ids["merchants"]["merchant-canteen"]
    set_meal = ids["products"]["两荤一素套餐"]
    home = RESIDENTS["resident-li"]
    order = json.dumps({
        "merchant_id": canteen,
        "items": [{"product_id": set_meal, "quantity": 1}],
        "delivery": {"address": home["address"], "location": home["location"]},
        "note": "少盐，谢谢",
    }, ensure_ascii=False)
    repair = json.dumps({
        "skill": "plumbing", "description": "厨房水龙头一直滴水",
        "address": home["address"], "location": home["location"],
    }, ensure_ascii=False)
    market, recycling, today = ids["market"], ids["recycling"], _today()
    drop_off = json.dumps({
        "sequence": "demo-0002", "code": "$CODE", "amount_fen": 600,
        "items": [{"category": "plastic", "grams": 500}],
        "weighed_at": _now_iso()}).replace("$CODE", "'$CODE'")
    weighing = json.dumps({
        "sequence": "demo-0002", "product_id": ids["products"]["洪湖莲藕"], "grams": 1200,
        "unit_price_fen": 980, "total_fen": 1176, "weighed_at": _now_iso(),
        "batch": "HH-1128"}, ensure_ascii=False)
    stall = ids["merchants"].get("merchant-wang", "MERCHANT_ID")
    feedback = json.dumps({
        "kind": "complaint", "subject_type": "shop", "subject_id": stall,
        "text": "王阿姨蔬菜摊的上海青称重好像少了二两",
    }, ensure_ascii=False)
    token = ("curl -s -X POST {u}/api/v1/auth/dev-token -H 'Content-Type: application/json' "
             "-d '{{\"sub\": \"{sub}\", \"role\": \"{role}\"}}' | python3 -c "
             "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'")
    return f"""
Lifecircle is running at {base_url}
  API docs:  {base_url}/api/docs   (OpenAPI: {base_url}/api/v1/openapi.json)
  readiness: {base_url}/readyz

Walk-through: 李奶奶 (resident-li) orders lunch from the community canteen.

  B={base_url}
  LI=$({token.format(u="$B", sub="resident-li", role="resident")})
  CANTEEN=$({token.format(u="$B", sub="merchant-canteen", role="merchant")})

  PLANNER=$({token.format(u="$B", sub="planner-jianghan", role="planner")})

  # what is within a 10-minute walk of her home, open now; goods called 鸡蛋 (eggs) nearby
  curl -s "$B/api/v1/merchants?lat=30.5803&lng=114.2705&walk_minutes=10&open_now=true" \\
       -H "Authorization: Bearer $LI"
  curl -s "$B/api/v1/products?lat=30.5803&lng=114.2705&q=%E9%B8%A1%E8%9B%8B" \\
       -H "Authorization: Bearer $LI"

  # what this circle lacks (缺什么): basic-guarantee gaps first
  curl -s "$B/api/v1/coverage?lat=30.5801&lng=114.2701" -H "Authorization: Bearer $PLANNER"

  # the canteen's menu
  curl -s $B/api/v1/merchants/{canteen}/products -H "Authorization: Bearer $LI"

  # order one 16-yuan set meal (202, status pending; then confirmed once stock is reserved)
  curl -s -X POST $B/api/v1/orders -H "Authorization: Bearer $LI" \\
       -H 'Content-Type: application/json' \\
       -H "Idempotency-Key: $(cat /proc/sys/kernel/random/uuid)" \\
       -d '{order}'

  # pay for it online once it is confirmed (the sandbox provider stands in for WeChat Pay
  # or Alipay: its "payment page" pays and sends a signed callback), or at the door with
  # {{"method": "cash"}} where the shop takes cash (the book room does not)
  curl -s -X POST $B/api/v1/orders/ORDER_ID/payment -H "Authorization: Bearer $LI" \\
       -H 'Content-Type: application/json' -d '{{"method": "online"}}'
  curl -s -X POST $B/api/v1/payments/sandbox/ORDER_ID -H "Authorization: Bearer $LI" \\
       -H 'Content-Type: application/json' -d '{{"outcome": "paid"}}'
  # had the canteen declined it now, or not accepted it in 10 minutes, the payment would go
  # back by itself: "payment": {{"status": "refunded", ...}} and a notice in her inbox

  # her orders and notifications
  curl -s $B/api/v1/orders -H "Authorization: Bearer $LI"
  curl -s $B/api/v1/notifications -H "Authorization: Bearer $LI"

  # the canteen sees the order, accepts it, sends it out, delivers it (use the order id)
  curl -s $B/api/v1/orders -H "Authorization: Bearer $CANTEEN"
  curl -s -X POST $B/api/v1/orders/ORDER_ID/accept -H "Authorization: Bearer $CANTEEN"
  curl -s -X POST $B/api/v1/orders/ORDER_ID/dispatch -H "Authorization: Bearer $CANTEEN"
  curl -s -X POST $B/api/v1/orders/ORDER_ID/deliver -H "Authorization: Bearer $CANTEEN"

Feedback (意见反馈): she tells her community the vegetable stall's scale seems short; the
community's planner sees it in the queue (and on the stall's page), answers, and closes it.

  curl -s -X POST $B/api/v1/feedback -H "Authorization: Bearer $LI" \\
       -H 'Content-Type: application/json' \\
       -d '{feedback}'
  curl -s "$B/api/v1/feedback?status=open" -H "Authorization: Bearer $PLANNER"
  curl -s "$B/api/v1/feedback?subject_type=shop&subject_id={stall}" \\
       -H "Authorization: Bearer $PLANNER"
  curl -s -X POST $B/api/v1/feedback/FEEDBACK_ID/answer -H "Authorization: Bearer $PLANNER" \\
       -H 'Content-Type: application/json' -d '{{"text": "已请市场管理处复核电子秤"}}'
  curl -s -X POST $B/api/v1/feedback/FEEDBACK_ID/close -H "Authorization: Bearer $PLANNER"
  curl -s $B/api/v1/feedback/FEEDBACK_ID -H "Authorization: Bearer $LI"

Repairs: her tap leaks; the dispatcher sends the nearest plumber (arrival within 15 minutes).

  DISPATCH=$({token.format(u="$B", sub="dispatcher-jianghan", role="dispatcher")})
  WANG=$({token.format(u="$B", sub="tech-wang", role="technician")})
  curl -s -X POST $B/api/v1/repairs -H "Authorization: Bearer $LI" \\
       -H 'Content-Type: application/json' \\
       -H "Idempotency-Key: $(cat /proc/sys/kernel/random/uuid)" \\
       -d '{repair}'
  curl -s $B/api/v1/repairs/REPAIR_ID/candidates -H "Authorization: Bearer $DISPATCH"
  curl -s -X POST $B/api/v1/repairs/REPAIR_ID/assign -H "Authorization: Bearer $DISPATCH" \\
       -H 'Content-Type: application/json' -d '{{"technician_id": "TECHNICIAN_ID"}}'
  curl -s -X POST $B/api/v1/repairs/REPAIR_ID/accept -H "Authorization: Bearer $WANG"
  curl -s $B/api/v1/dispatch/board -H "Authorization: Bearer $DISPATCH"

The wet market (智慧菜场): 王阿姨's scale posts each sale; the slip's QR opens its receipt.

  # the receipt of her 750 g of greens: anyone with the code, no sign-in
  curl -s $B/api/v1/receipts/{market["receipt"]}

  # her scale posts another weighing (its device token, never a person's login)
  curl -s -X POST $B/api/v1/scales/weighings -H 'Content-Type: application/json' \\
       -H "X-Device-Token: {market["scales"]["merchant-wang"]["token"]}" \\
       -d '{weighing}'

  # 李奶奶 thinks it was short-weighed; the market's manager sees it, with the day's stalls
  curl -s -X POST $B/api/v1/receipts/{market["receipt"]}/flag -H "Authorization: Bearer $LI" \\
       -H 'Content-Type: application/json' -d '{{"reason": "到家称了只有700克"}}'
  MANAGER=$({token.format(u="$B", sub=MARKET_MANAGER, role="market_manager")})
  curl -s "$B/api/v1/markets/{market["id"]}/weighings?day={today}" \\
       -H "Authorization: Bearer $MANAGER"
  curl -s "$B/api/v1/markets/{market["id"]}/mismatches?day={today}" \\
       -H "Authorization: Bearer $MANAGER"

Recycling (智能回收箱): 张先生 drops off paper and cans; the box credits him at posted rates.

  ZHANG=$({token.format(u="$B", sub="resident-zhang", role="resident")})
  curl -s $B/api/v1/merchants/{recycling["id"]}/recycling-rates -H "Authorization: Bearer $ZHANG"
  # his app shows a code (good for one drop-off, ten minutes); the box posts it with the weights
  CODE=$(curl -s -X POST $B/api/v1/recycling/drop-off-codes -H "Authorization: Bearer $ZHANG" \\
         | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
  curl -s -X POST $B/api/v1/recycling/drop-offs -H 'Content-Type: application/json' \\
       -H "X-Device-Token: {recycling["box"]["token"]}" \\
       -d '{drop_off}'
  curl -s $B/api/v1/recycling/credits/me -H "Authorization: Bearer $ZHANG"
"""


def load_and_explain(base_url: str, data_dir: Path) -> dict[str, Any]:
    ids = load(base_url, data_dir)
    print(walkthrough(base_url, ids), flush=True)
    return ids


def new_key() -> str:
    return str(uuid.uuid4())
