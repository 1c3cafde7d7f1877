import pytest

from services.catalog.search import normalize, rank, score


def test_searching_eggs_finds_free_range_eggs():
    assert score("鸡蛋", "土鸡蛋") > 0


def test_searching_eggs_finds_a_name_with_a_pack_size():
    assert score("鸡蛋", "鸡蛋 10枚") > 0


def test_searching_eggs_does_not_find_chicken_meat():
    assert score("鸡蛋", "鸡肉") == 0


def test_match_tiers_are_ordered_exact_prefix_substring_terms_bigrams():
    exact = score("鸡蛋", "鸡蛋")
    prefix = score("鸡蛋", "鸡蛋 10枚")
    substring = score("鸡蛋", "土鸡蛋")
    terms = score("鸡蛋 土", "土鸡蛋")
    bigrams = score("土鸡蛋", "散养鸡蛋")  # shares 鸡蛋, one of the query's two bigrams
    assert exact > prefix > substring > terms > bigrams > 0


def test_too_little_bigram_overlap_is_no_match():
    # Only one of four query bigrams (新鲜) appears.
    assert score("新鲜鸡蛋仔", "新鲜牛肉") == 0


def test_latin_text_is_case_insensitive():
    assert score("milk", "纯牛奶 MILK 250ml") == score("MILK", "纯牛奶 milk 250ml") > 0
    assert score("Coca-Cola", "coca-cola") == 1.0


def test_full_width_and_half_width_forms_are_equivalent():
    assert normalize("ＡＢＣ　１２３") == "abc 123"
    assert score("ｃｏｌａ", "Cola") == 1.0
    assert score("10枚", "鸡蛋 １０枚") > 0


def test_spacing_does_not_matter_for_substrings():
    assert score("鸡蛋10枚", "土鸡蛋 10枚") > 0


def test_an_empty_query_matches_nothing():
    assert score("", "鸡蛋") == 0
    assert score("   ", "鸡蛋") == 0


ITEMS = [
    {"name": "鸡肉", "d": 10},
    {"name": "土鸡蛋", "d": 300},
    {"name": "鸡蛋 10枚", "d": 500},
    {"name": "散养土鸡蛋", "d": 100},
    {"name": "鸡蛋", "d": 900},
]


def test_rank_orders_by_score_then_distance_and_drops_non_matches():
    names = [i["name"] for i in rank("鸡蛋", ITEMS, "name", "d")]
    assert names == ["鸡蛋", "鸡蛋 10枚", "散养土鸡蛋", "土鸡蛋"]


def test_rank_accepts_callables_and_keeps_input_order_without_distances():
    items = [("b", "土鸡蛋"), ("a", "鲜鸡蛋")]
    assert rank("鸡蛋", items, name_key=lambda t: t[1]) == items


def test_rank_puts_items_without_a_distance_last_within_a_score():
    items = [{"name": "土鸡蛋", "d": None}, {"name": "鲜鸡蛋", "d": 50}]
    assert [i["d"] for i in rank("鸡蛋", items, "name", "d")] == [50, None]


@pytest.mark.parametrize("query", ["牛奶", "xyz"])
def test_rank_returns_nothing_when_no_name_matches(query):
    assert rank(query, ITEMS, "name", "d") == []
