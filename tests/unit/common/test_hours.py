from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.common.hours import is_open, validate_hours

CITY = "Asia/Shanghai"  # the CITY_TZ these tests judge hours in
SHANGHAI = timezone(timedelta(hours=8))  # fixed offset is enough to build test instants


def local(y, mo, d, h, mi):
    """A Shanghai wall-clock time expressed as the UTC instant is_open expects."""
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI).astimezone(UTC)


# 2024-06-01 is a Saturday, 2024-06-03 a Monday.
SAT, SUN, MON = (2024, 6, 1), (2024, 6, 2), (2024, 6, 3)

DAY_SHOP = {"mon": [["07:00", "21:00"]]}
NIGHT_STALL = {"sat": [["22:00", "02:00"]]}


def test_a_day_shop_opens_on_its_opening_minute():
    assert is_open(DAY_SHOP, local(*MON, 7, 0), CITY) is True


def test_a_day_shop_is_closed_the_minute_before_opening():
    assert is_open(DAY_SHOP, local(*MON, 6, 59), CITY) is False


def test_a_day_shop_is_closed_on_its_closing_minute():
    assert is_open(DAY_SHOP, local(*MON, 20, 59), CITY) is True
    assert is_open(DAY_SHOP, local(*MON, 21, 0), CITY) is False


def test_a_saturday_night_stall_is_open_at_half_past_eleven_saturday():
    assert is_open(NIGHT_STALL, local(*SAT, 23, 30), CITY) is True


def test_a_saturday_night_stall_is_still_open_at_half_past_one_sunday():
    assert is_open(NIGHT_STALL, local(*SUN, 1, 30), CITY) is True


def test_a_saturday_night_stall_closes_at_two_on_sunday_and_is_shut_before_ten_saturday():
    assert is_open(NIGHT_STALL, local(*SUN, 2, 0), CITY) is False
    assert is_open(NIGHT_STALL, local(*SAT, 21, 59), CITY) is False
    # Saturday's early hours belong to Friday's (absent) interval, not Saturday's.
    assert is_open(NIGHT_STALL, local(*SAT, 1, 30), CITY) is False


def test_utc_half_past_eleven_is_half_past_seven_next_morning_in_shanghai():
    sunday_2330_utc = datetime(2024, 6, 2, 23, 30, tzinfo=UTC)  # Mon 07:30 in Shanghai
    assert is_open(DAY_SHOP, sunday_2330_utc, CITY) is True
    assert is_open(DAY_SHOP, sunday_2330_utc, tz="UTC") is False  # still Sunday in UTC


def test_a_different_city_time_zone_is_honoured():
    # Mon 07:30 in Urumqi local time (UTC+6) is Mon 01:30 UTC.
    assert is_open(DAY_SHOP, datetime(2024, 6, 3, 1, 30, tzinfo=UTC), tz="Asia/Urumqi") is True
    # 09:30 in Shanghai:
    assert is_open(DAY_SHOP, datetime(2024, 6, 3, 1, 30, tzinfo=UTC), CITY) is True
    assert is_open(DAY_SHOP, datetime(2024, 6, 2, 22, 30, tzinfo=UTC), CITY) is False  # 06:30


def test_all_day_hours_cover_midnight_and_the_last_minute():
    hours = {"mon": [["00:00", "24:00"]]}
    assert is_open(hours, local(*MON, 0, 0), CITY) is True
    assert is_open(hours, local(*MON, 23, 59), CITY) is True
    assert is_open(hours, local(*SUN, 23, 59), CITY) is False


def test_a_lunch_break_closes_the_shop_between_intervals():
    hours = {"mon": [["14:00", "20:00"], ["08:00", "12:00"]]}
    assert is_open(hours, local(*MON, 11, 59), CITY) is True
    assert is_open(hours, local(*MON, 12, 30), CITY) is False
    assert is_open(hours, local(*MON, 14, 0), CITY) is True


def test_a_missing_day_means_closed():
    assert is_open(DAY_SHOP, local(*SAT, 12, 0), CITY) is False
    assert is_open({"sat": []}, local(*SAT, 12, 0), CITY) is False


def test_no_hours_given_is_treated_as_open():
    assert is_open(None, local(*SAT, 3, 0), CITY) is True


def test_a_naive_datetime_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(DAY_SHOP, datetime(2024, 6, 3, 8, 0), CITY)


def test_an_unknown_time_zone_is_rejected():
    with pytest.raises(ValueError, match="unknown time zone"):
        is_open(DAY_SHOP, local(*MON, 8, 0), tz="Mars/Olympus")


def test_validation_normalises_days_times_and_interval_order():
    raw = {"Sun": [("22:00", "2:00")], "MON": [["13:30", "24:00"], ["7:05", "11:00"]]}
    assert validate_hours(raw) == {
        "mon": [["07:05", "11:00"], ["13:30", "24:00"]],
        "sun": [["22:00", "02:00"]],
    }


def test_validation_passes_none_through():
    assert validate_hours(None) is None


@pytest.mark.parametrize(
    ("hours", "fragment"),
    [
        ([["07:00", "21:00"]], "expected an object keyed by day"),
        ({"monday": [["07:00", "21:00"]]}, "unknown day 'monday'"),
        ({"mon": "07:00-21:00"}, r"hours\.mon: expected a list"),
        ({"mon": [["07:00"]]}, r"hours\.mon\[0\]: expected \[open, close\]"),
        ({"tue": [["7am", "21:00"]]}, r"hours\.tue\[0\]\.open: expected 'HH:MM'"),
        ({"tue": [["07:00", "25:00"]]}, r"hours\.tue\[0\]\.close: '25:00' is not a valid"),
        ({"wed": [["07:60", "21:00"]]}, r"hours\.wed\[0\]\.open"),
        ({"wed": [["24:00", "02:00"]]}, "only allowed as a closing time"),
        ({"thu": [["07:00", 2100]]}, r"hours\.thu\[0\]\.close: expected a 'HH:MM' string"),
        ({"fri": [["08:00", "12:00"], ["11:00", "20:00"]]}, r"hours\.fri: intervals .* overlap"),
        ({"fri": [["22:00", "02:00"], ["23:00", "23:30"]]}, "overlap"),
        ({"mon": [], "Mon": []}, "given more than once"),
    ],
)
def test_bad_hours_are_rejected_with_a_field_specific_message(hours, fragment):
    with pytest.raises(ValueError, match=fragment):
        validate_hours(hours)


def test_is_open_rejects_malformed_hours_rather_than_guessing():
    with pytest.raises(ValueError):
        is_open({"mon": [["7", "21:00"]]}, local(*MON, 8, 0), CITY)


# The rules decided when catalog's opening hours and dispatch's shifts became one module.


def test_closing_at_24_00_ends_at_midnight_and_does_not_spill_into_the_next_day():
    hours = {"sat": [["18:00", "24:00"]]}
    assert is_open(hours, local(*SAT, 23, 59), CITY) is True
    assert is_open(hours, local(*SUN, 0, 0), CITY) is False


def test_open_equal_to_close_means_twenty_four_hours_from_then():
    assert is_open({"mon": [["00:00", "00:00"]]}, local(*MON, 23, 59), CITY) is True
    nine_to_nine = {"mon": [["09:00", "09:00"]]}
    assert is_open(nine_to_nine, local(2024, 6, 4, 8, 59), CITY) is True  # Tue 08:59
    assert is_open(nine_to_nine, local(2024, 6, 4, 9, 0), CITY) is False


def test_an_empty_schedule_is_closed_all_week_but_no_schedule_is_always_open():
    assert is_open({}, local(*MON, 12, 0), CITY) is False
    assert is_open(None, local(*MON, 12, 0), CITY) is True


def test_day_names_are_read_in_any_case_when_asked_and_when_validated():
    assert is_open({"Mon": [["07:00", "21:00"]]}, local(*MON, 8, 0), CITY) is True
    assert validate_hours({"MON": [["7:00", "21:00"]]}) == {"mon": [["07:00", "21:00"]]}


def test_at_most_eight_intervals_a_day():
    eight = [[f"{h:02d}:00", f"{h:02d}:30"] for h in range(8, 16)]
    assert len(validate_hours({"mon": eight})["mon"]) == 8
    with pytest.raises(ValueError, match="at most 8 intervals"):
        validate_hours({"mon": [*eight, ["20:00", "20:30"]]})


def test_overlapping_shifts_are_refused_for_technicians_as_for_shops():
    # Dispatch used to accept these; a technician's shifts now follow the shops' rule.
    with pytest.raises(ValueError, match="overlap"):
        validate_hours({"fri": [["08:00", "14:00"], ["12:00", "20:00"]]})


def test_a_spill_past_midnight_may_meet_the_next_days_own_hours():
    hours = validate_hours({"fri": [["20:00", "02:00"]], "sat": [["01:00", "05:00"]]})
    assert is_open(hours, local(*SAT, 1, 30), CITY) is True
    assert is_open(hours, local(*SAT, 4, 0), CITY) is True


def test_malformed_hours_are_refused_each_time_they_are_asked_about():
    for _ in range(2):  # parsed schedules are remembered; refusals are not
        with pytest.raises(ValueError):
            is_open({"mon": [[{"h": 7}, "21:00"]]}, local(*MON, 8, 0), CITY)
        with pytest.raises(ValueError):
            is_open({"mon": [["07:00", "25:00"]]}, local(*MON, 8, 0), CITY)
    assert is_open({"mon": [("07:00", "21:00")]}, local(*MON, 8, 0), CITY) is True
