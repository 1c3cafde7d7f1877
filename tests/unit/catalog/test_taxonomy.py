import json
from pathlib import Path

import pytest

from services.catalog import taxonomy
from services.catalog.taxonomy import BUSINESS_TYPES, BY_CODE, basic_codes, is_known, target_minutes

BASIC = [
    "convenience_store", "supermarket", "wet_market", "fresh_produce", "breakfast", "laundry",
    "hair_beauty", "photo_print", "housekeeping", "repair_point", "pharmacy", "postal_express",
    "recycling",
]  # fmt: skip
QUALITY = [
    "specialty_dining", "cafe", "fitness", "bookstore", "education_training",
    "leisure_entertainment", "elderly_care", "childcare", "pet_services", "florist_gifts",
]  # fmt: skip
TEN_MINUTE = {
    "convenience_store", "supermarket", "wet_market", "fresh_produce", "breakfast",
    "specialty_dining", "cafe", "housekeeping", "laundry", "repair_point",
}  # fmt: skip


def test_the_taxonomy_has_exactly_the_basic_and_quality_types_in_order():
    assert basic_codes() == BASIC
    assert taxonomy.quality_codes() == QUALITY
    assert [t["code"] for t in BUSINESS_TYPES] == BASIC + QUALITY


def test_daily_shopping_catering_housekeeping_and_repair_have_a_ten_minute_target():
    assert {t["code"] for t in BUSINESS_TYPES if t["target_walk_minutes"] == 10} == TEN_MINUTE
    assert all(
        t["target_walk_minutes"] == 15 for t in BUSINESS_TYPES if t["code"] not in TEN_MINUTE
    )


def test_elderly_care_stays_at_fifteen_minutes_in_the_care_group():
    assert target_minutes("elderly_care") == 15
    assert BY_CODE["elderly_care"]["group"] == "care"


def test_ten_minute_types_are_exactly_those_in_the_frequent_need_groups():
    frequent = {"daily_shopping", "catering", "housekeeping", "repair"}
    for t in BUSINESS_TYPES:
        assert (t["target_walk_minutes"] == 10) == (t["group"] in frequent), t["code"]


def test_every_entry_has_names_and_a_snake_case_code():
    for t in BUSINESS_TYPES:
        assert t["code"].isascii() and t["code"] == t["code"].lower() and " " not in t["code"]
        assert t["name_zh"] and t["name_en"]
        assert t["category"] in ("basic", "quality")


def test_lookups_answer_for_known_codes_and_refuse_unknown_ones():
    assert is_known("pharmacy") and not is_known("casino")
    assert target_minutes("supermarket") == 10
    assert target_minutes("pharmacy") == 15
    with pytest.raises(ValueError, match="unknown business type"):
        target_minutes("casino")


def test_the_json_file_is_valid_utf8_and_matches_the_loaded_list():
    path = Path(taxonomy.__file__).with_name("business_types.json")
    assert json.loads(path.read_text(encoding="utf-8")) == BUSINESS_TYPES


def test_a_duplicate_code_in_the_data_file_fails_loading(tmp_path):
    bad = tmp_path / "business_types.json"
    bad.write_text(json.dumps(BUSINESS_TYPES + [BUSINESS_TYPES[0]]), encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate code"):
        taxonomy._load(bad)
