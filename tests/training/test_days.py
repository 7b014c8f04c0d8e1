"""The daily spread (training.days): business days only, weekly sums kept, pay dates and p_late read off it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.calendar import BusinessCalendar
from features.days import to_days, weekday
from features.history import WEEKDAY_SHARE_COLUMNS
from features.labels import HORIZON_WEEKS
from training.days import DAY_FEATURES, DAYS, DaySpread, _Context, daily_readouts

DATE_KEYS = ("median_within_horizon", "p10", "p50", "p90")


def rows(as_of: str, due: str, country: str = "", n: int = 1, **values: float) -> pd.DataFrame:
    """Feature rows of `n` invoices open at `as_of` with the columns the spread reads (no history unless given)."""
    base: dict[str, object] = {
        "as_of": pd.Timestamp(as_of),
        "due_date": pd.Timestamp(due),
        "country": country,
        "hist_run_count": 0.0,
        "days_to_promised_date": np.nan,
        "days_to_next_expected_run": np.nan,
        "hist_run_gap_median": np.nan,
        "hist_modal_business_day_of_month": np.nan,
        "hist_business_day_of_month_concentration": np.nan,
        **{c: np.nan for c in WEEKDAY_SHARE_COLUMNS},
    }
    base.update(values)
    frame = pd.DataFrame([base] * n)
    frame["country"] = frame["country"].astype("str")
    return frame


def weeks(**mass: float) -> np.ndarray:
    """A (1, 14) weekly distribution: week_3=0.5 ... ; the rest goes to 'later'."""
    proba = np.zeros((1, HORIZON_WEEKS + 1))
    for name, p in mass.items():
        proba[0, int(name.removeprefix("week_")) - 1] = p
    proba[0, -1] = 1.0 - proba.sum()
    return proba


def spread_with(**beta: float) -> DaySpread:
    spread = DaySpread()
    for name, b in beta.items():
        spread.beta[DAY_FEATURES.index(name)] = b
    return spread


def day(text: str) -> int:
    return int(to_days(pd.Series([pd.Timestamp(text)]))[0])


def business(country: str, days: np.ndarray, closing_days: tuple[str, ...] = ()) -> np.ndarray:
    calendar = BusinessCalendar.covering([country], days, closing_days)
    return calendar.is_business_day(calendar.codes([country] * len(days)), days)


# ------------------------------------------------------------------------------------- weekly sums, business days
def random_rows(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = rows("2024-03-13", "2024-04-12", country="DE", n=n)
    frame["country"] = pd.Series(rng.choice(["DE", "US", "GB", ""], n), dtype="str")
    frame["as_of"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    frame["due_date"] = frame["as_of"] + pd.to_timedelta(rng.integers(-40, 60, n), unit="D")
    frame[WEEKDAY_SHARE_COLUMNS] = rng.dirichlet(np.ones(7), n)
    frame["hist_run_count"] = rng.integers(0, 30, n).astype(float)
    frame["days_to_promised_date"] = np.where(rng.random(n) < 0.3, rng.integers(0, 40, n), np.nan)
    frame["days_to_next_expected_run"] = np.where(rng.random(n) < 0.9, rng.integers(1, 20, n), np.nan)
    frame["hist_run_gap_median"] = rng.choice([1.0, 7.0, 14.0, 30.5, np.nan], n)
    frame["hist_modal_business_day_of_month"] = np.where(rng.random(n) < 0.8, rng.integers(1, 23, n), np.nan)
    frame["hist_business_day_of_month_concentration"] = rng.random(n)
    return frame


def test_the_fast_scoring_path_computes_the_features_the_fit_learned_on():
    """`DaySpread.daily` adds the weights without building every feature; it must equal the weighted sum of the
    features `fit` learns from (`_Context.feature_list`) on every business day."""
    rng = np.random.default_rng(8)
    frame = random_rows(rng, 400)
    spread = spread_with(**{name: float(b) for name, b in zip(DAY_FEATURES, rng.normal(0, 1, 9), strict=True)})
    spread.gamma, spread.prior_runs = 1.3, 5.0
    fast, business = spread._day_scores(frame)
    days = to_days(frame["as_of"])[:, None] + np.arange(1, DAYS + 1)[None, :]
    context = _Context(frame, (), days)
    slow = spread.gamma * context.log_share(spread.global_weekday_share, spread.prior_runs)
    for b, values in zip(spread.beta, context.feature_list(), strict=True):
        slow += b * values
    np.testing.assert_array_equal(business, context.business)
    np.testing.assert_allclose(fast[business], slow[business], rtol=0, atol=1e-9)


def test_the_weekly_probabilities_are_the_sums_over_their_days():
    rng = np.random.default_rng(5)
    n = 300
    frame = rows("2024-03-13", "2024-04-12", country="DE", n=n)
    frame["as_of"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    frame["due_date"] = frame["as_of"] + pd.to_timedelta(rng.integers(-40, 60, n), unit="D")
    shares = rng.dirichlet(np.ones(7), n)
    frame[WEEKDAY_SHARE_COLUMNS] = shares
    frame["hist_run_count"] = rng.integers(0, 30, n).astype(float)
    frame["days_to_promised_date"] = np.where(rng.random(n) < 0.3, rng.integers(0, 40, n), np.nan)
    frame["days_to_next_expected_run"] = rng.integers(1, 20, n).astype(float)
    frame["hist_run_gap_median"] = rng.choice([7.0, 14.0, 30.0], n)
    proba = rng.dirichlet(np.ones(HORIZON_WEEKS + 1), n)
    beta = rng.normal(0, 1, len(DAY_FEATURES))
    spread = spread_with(**{name: float(b) for name, b in zip(DAY_FEATURES, beta, strict=True)})
    daily = spread.daily(frame, proba)
    assert daily.shape == (n, DAYS) and (daily >= 0).all()
    np.testing.assert_allclose(daily.reshape(n, HORIZON_WEEKS, 7).sum(axis=2), proba[:, :HORIZON_WEEKS], atol=1e-12)
    days = to_days(frame["as_of"])[:, None] + np.arange(1, DAYS + 1)[None, :]
    open_days = business("DE", days.ravel()).reshape(days.shape)
    assert daily[~open_days].max() == 0.0  # no mass on a weekend or a German public holiday
    assert (daily[open_days] > 0).mean() > 0.99


def test_without_history_each_business_day_of_a_week_gets_the_same_share():
    # T Monday 2024-06-03: week 1 is Tue 4 .. Mon 10 (five business days), no holiday in the weekends-only calendar
    daily = DaySpread().daily(rows("2024-06-03", "2024-06-06"), weeks(week_1=0.5, week_2=0.5))
    np.testing.assert_allclose(daily[0, :7], [0.1, 0.1, 0.1, 0.1, 0, 0, 0.1])


@pytest.mark.parametrize(
    ("case", "as_of", "country", "beta", "values", "not_on"),
    [
        # Saturday 31 August 2024 is a month end: its run is Friday 30 August
        ("saturday month end", "2024-08-26", "", {"month_end": 3.0}, {}, ["2024-08-31", "2024-09-01"]),
        # 3 October 2024 (Thursday) is German Unity Day; the invoice is due and promised that day
        (
            "holiday",
            "2024-09-30",
            "DE",
            {"due_business_day_before": 2.0, "promised_date": 2.0},
            {"days_to_promised_date": 3.0},
            ["2024-10-03", "2024-10-05", "2024-10-06"],
        ),
        # Sunday 31 March 2024 ends the quarter, and Friday 29 March is Good Friday, a GB public holiday
        (
            "quarter end on a Sunday",
            "2024-03-25",
            "GB",
            {"quarter_end": 3.0, "month_end": 2.0},
            {},
            ["2024-03-29", "2024-03-30", "2024-03-31"],
        ),
    ],
)
def test_no_pay_date_falls_on_a_non_business_day(case, as_of, country, beta, values, not_on):
    frame = rows(as_of, "2024-10-03" if case == "holiday" else as_of, country=country, **values)
    spread = spread_with(**beta)
    for proba in (weeks(week_1=1.0), weeks(week_1=0.6, week_2=0.3), weeks(week_1=0.3, week_2=0.2)):
        read = spread.readouts(frame, proba)
        daily = spread.daily(frame, proba)
        t = day(as_of)
        closed = {day(d) for d in not_on}
        assert all(daily[0, d - t - 1] == 0 for d in closed if 1 <= d - t <= DAYS), case
        for key in DATE_KEYS:
            if np.isnan(read[key][0]):
                continue
            d = int(read[key][0])
            assert d not in closed, (case, key)
            assert business(country, np.array([d]))[0] and weekday(np.array([d]))[0] < 5, (case, key)
    # the weight goes to the business day the run moves to: the month/quarter end's last business day, the day
    # before the holiday
    expected = {"saturday month end": "2024-08-30", "holiday": "2024-10-02", "quarter end on a Sunday": "2024-03-28"}
    read = spread.readouts(frame, weeks(week_1=1.0))
    assert read["median_within_horizon"][0] == day(expected[case])


def test_point_date_is_the_median_given_settlement_within_the_horizon():
    # T Monday 2024-06-03; 0.3 in week 1 (5 days of 0.06), 0.1 in week 2 (0.02 a day), 0.6 later.
    # Within the horizon the median is at 0.2 of 0.4: the 4th business day of week 1 (Fri 7 June: 0.24 >= 0.2).
    frame = rows("2024-06-03", "2024-06-30")
    read = DaySpread().readouts(frame, weeks(week_1=0.3, week_2=0.1))
    assert read["median_within_horizon"][0] == day("2024-06-07")
    assert read["p10"][0] == day("2024-06-05")  # 0.06, 0.12 >= 0.1 on Wednesday
    assert np.isnan(read["p50"][0]) and np.isnan(read["p90"][0])  # the 13 weeks never reach 0.5


def test_a_week_without_a_business_day_keeps_its_mass_and_its_dates_move_to_a_business_day():
    closed = tuple(str(d.date()) for d in pd.date_range("2024-06-04", "2024-06-10"))  # all of week 1 closed
    spread = DaySpread(closing_days=closed)
    frame = rows("2024-06-03", "2024-06-30")
    daily = spread.daily(frame, weeks(week_1=0.7, week_2=0.3))
    np.testing.assert_allclose(daily[0, :7], 0.1)
    read = spread.readouts(frame, weeks(week_1=0.7, week_2=0.3))
    assert read["median_within_horizon"][0] == day("2024-06-11")  # the first business day after the closing week


# ----------------------------------------------------------------------------------------------- p_late by hand
def test_p_late_and_p_late_30_against_hand_computed_values():
    """T Monday 2024-06-03, due Thursday 6 June, weekends-only calendar, no history: each business day of a week has
    a fifth of it. On time: Tue-Thu of week 1 (3/5). Due + 30 = Saturday 6 July; week 5 is Tue 2 .. Mon 8 July,
    of which Tue-Fri are on time (4/5)."""
    p = {"week_1": 0.2, "week_2": 0.1, "week_3": 0.1, "week_4": 0.05, "week_5": 0.25, "week_6": 0.1}
    read = DaySpread().readouts(rows("2024-06-03", "2024-06-06"), weeks(**p))
    assert read["p_late"][0] == pytest.approx(1 - 3 / 5 * 0.2, abs=1e-12)
    on_time_30 = 0.2 + 0.1 + 0.1 + 0.05 + 4 / 5 * 0.25
    assert read["p_late_30"][0] == pytest.approx(1 - on_time_30, abs=1e-12)  # later (0.2) counts as late


def test_an_invoice_already_due_is_late_and_mass_after_the_horizon_counts_as_late():
    read = DaySpread().readouts(rows("2024-06-03", "2024-06-03"), weeks(week_1=0.9))
    assert read["p_late"][0] == 1.0
    assert read["p_late_30"][0] == pytest.approx(0.1, abs=1e-12)  # only the later mass is > 30 days late
    far = daily_readouts(np.zeros((1, DAYS)), np.array([day("2024-06-03")]), np.array([day("2024-12-31")]))
    assert far["p_late"][0] == 1.0 and far["p_late_30"][0] == 1.0  # nothing within the horizon: all late


# -------------------------------------------------------------------------------------- customer pattern, closing
def test_the_customer_weekday_pattern_moves_mass_to_its_run_day():
    frame = rows("2024-06-03", "2024-06-30", hist_run_count=20.0, **dict.fromkeys(WEEKDAY_SHARE_COLUMNS, 0.0))
    frame["hist_run_share_wed"] = 1.0
    daily = DaySpread().daily(frame, weeks(week_1=1.0))[0, :7]  # Tue Wed Thu Fri Sat Sun Mon
    assert daily.argmax() == 1 and daily[1] > 0.8
    cold = rows("2024-06-03", "2024-06-30", hist_run_count=0.0)  # no runs yet: the ledger-wide pattern
    np.testing.assert_allclose(DaySpread().daily(cold, weeks(week_1=1.0))[0, [0, 1, 2, 3, 6]], 0.2)


def test_a_closing_day_gets_no_mass_and_no_pay_date():
    frame = rows("2024-06-03", "2024-06-07", hist_run_count=20.0, **dict.fromkeys(WEEKDAY_SHARE_COLUMNS, 0.0))
    frame["hist_run_share_fri"] = 1.0  # pays on Fridays: Friday 7 June would be its day
    proba = weeks(week_1=1.0)
    assert DaySpread().readouts(frame, proba)["median_within_horizon"][0] == day("2024-06-07")
    closed = DaySpread(closing_days=("2024-06-07",))
    daily = closed.daily(frame, proba)
    assert daily[0, 3] == 0.0 and daily[0, :7].sum() == pytest.approx(1.0)
    read = closed.readouts(frame, proba)
    assert all(read[k][0] != day("2024-06-07") for k in DATE_KEYS)
    assert read["median_within_horizon"][0] != day("2024-06-07")


# ------------------------------------------------------------------------------------------------------ fitting
def test_fit_learns_which_way_a_non_business_due_date_moves_and_the_customer_run_day():
    """Simulated settlements: a due date on a Saturday is paid the Monday after, otherwise on the customer's run day
    (Tuesday). The fit finds both: the 'after' weight above the 'before' one, and a positive weekday-share weight."""
    rng = np.random.default_rng(1)
    n = 2000
    as_of = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    due = as_of + pd.to_timedelta(rng.integers(1, 60, n), unit="D")
    frame = rows("2024-01-01", "2024-01-01", n=n, hist_run_count=20.0, **dict.fromkeys(WEEKDAY_SHARE_COLUMNS, 0.05))
    frame["as_of"], frame["due_date"] = as_of, due
    frame["hist_run_share_tue"] = 0.7
    t, due_day = to_days(frame["as_of"]), to_days(frame["due_date"])
    saturday_due = weekday(due_day) == 5
    next_tuesday = due_day + (1 - weekday(due_day)) % 7
    settle = np.where(saturday_due & (rng.random(n) < 0.8), due_day + 2, next_tuesday)
    labels = pd.DataFrame({"days_to_settle": (settle - t).astype(float)})
    spread = DaySpread().fit(frame, labels)
    summary = spread.fit_summary
    assert summary["fitted"] and summary["events"] == int(((settle - t >= 1) & (settle - t <= DAYS)).sum())
    assert spread.non_business_due_direction() == "next"
    assert summary["beta_due_business_day_after"] > summary["beta_due_business_day_before"] + 1.0
    assert spread.gamma > 0.5
    assert summary["mean_log_likelihood"] > summary["uniform_log_likelihood"]


def test_an_unfitted_spread_keeps_its_defaults_with_too_few_settlements():
    frame = rows("2024-06-03", "2024-06-30", n=10)
    spread = DaySpread().fit(frame, pd.DataFrame({"days_to_settle": np.full(10, 5.0)}))
    assert spread.fit_summary == {"events": 10, "fitted": False}
    assert spread.gamma == 1.0 and not spread.beta.any()
