"""Period recogniser: ranges, months, quarters, relative periods, invalid years; claims its numbers."""

from __future__ import annotations

from datetime import date

import pytest

from quantops.chat.planner.periods import read_period
from quantops.chat.planner.text import Claims, normalise

TODAY = date(2026, 12, 1)


def period(text: str) -> tuple[str | None, str | None, bool]:
    found = read_period(normalise(text).lower(), TODAY, Claims())
    return (
        found.start.isoformat() if found.start else None,
        found.end.isoformat() if found.end else None,
        found.relative,
    )


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("since 2020", "2020-01-01", None),
        ("2020년부터", "2020-01-01", None),
        ("2018-2022", "2018-01-01", "2022-12-31"),
        ("from 2018 to 2022", "2018-01-01", "2022-12-31"),
        ("between 2016 and 2019", "2016-01-01", "2019-12-31"),
        ("2018년부터 2022년까지", "2018-01-01", "2022-12-31"),
        ("2018년~2022년", "2018-01-01", "2022-12-31"),
        ("in 2021", "2021-01-01", "2021-12-31"),
        ("2021년 한 해", "2021-01-01", "2021-12-31"),
        ("jan 2019 to june 2021", "2019-01-01", "2021-06-30"),
        ("from March 2020 to December 2021", "2020-03-01", "2021-12-31"),
        ("Q2 2023", "2023-04-01", "2023-06-30"),
        ("2023 q4", "2023-10-01", "2023-12-31"),
        ("2023년 2분기", "2023-04-01", "2023-06-30"),
        ("H1 2022", "2022-01-01", "2022-06-30"),
        ("2022년 하반기", "2022-07-01", "2022-12-31"),
        ("until 2019", None, "2019-12-31"),
        ("2019년까지", None, "2019-12-31"),
        ("before 2020", None, "2019-12-31"),
        ("after 2019", "2020-01-01", None),
        ("2020년 3월부터", "2020-03-01", None),
        ("2019-01-01~2019-12-31", "2019-01-01", "2019-12-31"),
        ("until 2020-06-30", None, "2020-06-30"),
        ("2019/03 to 2020/06", "2019-03-01", "2020-06-30"),
        ("2018-2022, which is best", "2018-01-01", "2022-12-31"),
        ("Jan-Jun 2021", "2021-01-01", "2021-06-30"),
        ("from jan to june 2021", "2021-01-01", "2021-06-30"),
        ("2021년 1월~6월", "2021-01-01", "2021-06-30"),
        ("2021년 1월부터 6월까지", "2021-01-01", "2021-06-30"),
        ("from '19 to '22", "2019-01-01", "2022-12-31"),
        ("in 2020 and 2021", "2020-01-01", "2021-12-31"),
    ],
)
def test_explicit_periods(text: str, start: str | None, end: str | None) -> None:
    assert period(text) == (start, end, False)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("ytd", "2026-01-01", None),
        ("year to date", "2026-01-01", None),
        ("올해", "2026-01-01", None),
        ("last 6 months", "2026-06-01", None),
        ("최근 6개월", "2026-06-01", None),
        ("last 3 years", "2023-12-01", None),
        ("최근 3년", "2023-12-01", None),
        ("지난 3년간", "2023-12-01", None),
        ("past three years", "2023-12-01", None),
        ("last year", "2025-01-01", "2025-12-31"),
        ("작년", "2025-01-01", "2025-12-31"),
        ("the past year", "2025-12-01", None),
        ("last 90 days", "2026-09-02", None),
    ],
)
def test_relative_periods(text: str, start: str, end: str | None) -> None:
    assert period(text) == (start, end, True)


def test_day_level_month_name_dates() -> None:
    assert period("from March 5, 2020 to 2021-01-04") == ("2020-03-05", "2021-01-04", False)
    assert period("since 5 Mar 2020") == ("2020-03-05", None, False)
    assert period("from the 5th of March 2020") == ("2020-03-05", None, False)


def test_days_ago_are_read_by_dateparser_relative_to_today() -> None:
    assert period("since 3 weeks ago") == ("2026-11-10", None, True)
    assert period("2년 전부터") == ("2024-12-01", None, True)
    assert period("from 10 days ago until 2026-11-30") == ("2026-11-21", "2026-11-30", True)


def test_impossible_years_and_dates_are_problems_not_dropped() -> None:
    found = read_period("from 1600 to 1700", TODAY, Claims())
    assert found.start is None and found.end is None
    assert ("start", "invalid", "1600") in found.problems and ("end", "invalid", "1700") in found.problems
    assert ("date", "invalid", "2021-02-30") in read_period("since 2021-02-30", TODAY, Claims()).problems
    assert any(p[0] == "start" for p in read_period("since 2030", TODAY, Claims()).problems)


def test_period_claims_its_numbers_and_leaves_others() -> None:
    claims = Claims()
    text = "sma 10/50 on aapl 2018-2022 initial cash 2000"
    read_period(text, TODAY, claims)
    assert not claims.free(text.index("2018"), text.index("2018") + 4)
    assert claims.free(text.index("2000"), text.index("2000") + 4)  # cash, not a year
    assert claims.free(text.index("10"), text.index("10") + 2)


def test_refers_back_to_the_period() -> None:
    assert read_period("same period on msft", TODAY, Claims()).refers_back
    assert read_period("같은 기간으로 msft", TODAY, Claims()).refers_back
    assert not read_period("run it again on msft", TODAY, Claims()).refers_back
