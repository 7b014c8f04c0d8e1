"""Customer payment-history features as of T, from invoices settled by T (sorted cumulative operations).

Each function takes day-number arrays prepared once by `features.build` and answers for many (customer, T) queries at
once through `AsOf`, which only ever sees events dated <= T.
"""

from __future__ import annotations

import numpy as np

from features.calendar import BusinessCalendar
from features.days import NO_DAY, AsOf, day_of_month, month_end_day, quarter_end_day, weekday


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _group_ewm(values: np.ndarray, group_start: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted mean within each group, in sorted order (pandas `ewm(alpha, adjust=True)`)."""
    from scipy.signal import lfilter  # imported here: scipy.signal costs ~1.4 s to import, only this needs it

    decay = 1.0 - alpha
    numerator = lfilter([1.0], [1.0, -decay], values)
    denominator = lfilter([1.0], [1.0, -decay], np.ones_like(values))
    n = np.arange(len(values))
    before = group_start - 1
    has_before = before >= 0
    factor = np.where(has_before, decay ** (n - before).astype(np.float64), 0.0)
    prev_num = np.where(has_before, numerator[np.maximum(before, 0)], 0.0)
    prev_den = np.where(has_before, denominator[np.maximum(before, 0)], 0.0)
    return (numerator - factor * prev_num) / (denominator - factor * prev_den)


def _group_last_k_sum(cumulative: np.ndarray, group_start: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of the last k values within each group, from a within-group cumulative sum."""
    n = np.arange(len(cumulative))
    lower = np.maximum(n - k, group_start - 1)  # index before the window
    count = n - lower
    before = np.where(lower >= group_start, cumulative[np.maximum(lower, 0)], 0.0)
    return cumulative - before, count.astype(np.float64)


def _group_last_k_median(values: np.ndarray, group_start: np.ndarray, k: int) -> np.ndarray:
    """Median of the last k values within each group (fewer at the start of a group), in sorted order."""
    n = len(values)
    if n == 0:
        return np.zeros(0)
    positions = np.arange(n)
    idx = positions[:, None] - np.arange(k)[None, :]
    window = np.where(idx >= group_start[:, None], values[np.maximum(idx, 0)], np.nan)
    window.sort(axis=1)  # the window's values first, NaN (outside the group) last
    count = np.minimum(k, positions - group_start + 1)
    return (window[positions, (count - 1) // 2] + window[positions, count // 2]) / 2


def settled_history(
    customer: np.ndarray,
    settle_day: np.ndarray,
    due_day: np.ndarray,
    amount_base: np.ndarray,
    payment_count: np.ndarray,
    query_customer: np.ndarray,
    query_day: np.ndarray,
    ewm_alpha: float = 0.3,
    last_k: int = 5,
) -> dict[str, np.ndarray]:
    """History over invoices settled on or before T: counts, days-late statistics, lateness shares."""
    settled = settle_day < NO_DAY
    index = AsOf(customer[settled], settle_day[settled])
    days_late = (settle_day - due_day)[settled].astype(np.float64)
    amount = amount_base[settled]
    late = (days_late > 0).astype(np.float64)
    late30 = (days_late > 30).astype(np.float64)
    partial = (payment_count[settled] > 1).astype(np.float64)
    cum = {
        name: index.group_cumsum(v)
        for name, v in {
            "n": np.ones_like(days_late),
            "dl": days_late,
            "dl2": days_late**2,
            "late": late,
            "late30": late30,
            "amt": amount,
            "amt_late": amount * late,
            "amt_late30": amount * late30,
            "amt_dl": amount * days_late,
            "partial": partial,
        }.items()
    }
    sorted_dl = index.sorted_values(days_late)
    ewm = _group_ewm(sorted_dl, index.group_start, ewm_alpha)
    last_sum, last_n = _group_last_k_sum(cum["dl"], index.group_start, last_k)
    last_late30, _ = _group_last_k_sum(cum["late30"], index.group_start, last_k)
    median_last10 = _group_last_k_median(sorted_dl, index.group_start, 10)

    pos = index.last_at_or_before(query_customer, query_day)
    take = index.take
    n = take(cum["n"], pos, 0.0)
    mean = _safe_div(take(cum["dl"], pos, 0.0), n)
    variance = _safe_div(take(cum["dl2"], pos, 0.0), n) - mean**2
    amt = take(cum["amt"], pos, 0.0)
    return {
        "hist_settled_count": n,
        "hist_settled_amount_base": amt,
        "hist_days_late_mean": mean,
        "hist_days_late_std": np.sqrt(np.clip(variance, 0, None)),
        "hist_days_late_median_last10": take(median_last10, pos),
        "hist_days_late_ewm": take(ewm, pos),
        "hist_days_late_last5_mean": _safe_div(take(last_sum, pos, 0.0), take(last_n, pos, 0.0)),
        "hist_last5_late30_count": take(last_late30, pos, 0.0),
        "hist_last5_count": take(last_n, pos, 0.0),
        "hist_days_late_amount_weighted": _safe_div(take(cum["amt_dl"], pos, 0.0), amt),
        "hist_share_late": _safe_div(take(cum["late"], pos, 0.0), n),
        "hist_share_late_30": _safe_div(take(cum["late30"], pos, 0.0), n),
        "hist_amount_share_late": _safe_div(take(cum["amt_late"], pos, 0.0), amt),
        "hist_amount_share_late_30": _safe_div(take(cum["amt_late30"], pos, 0.0), amt),
        "hist_partial_payment_share": _safe_div(take(cum["partial"], pos, 0.0), n),
        "_hist_days_late_sum": take(cum["dl"], pos, 0.0),
    }


def outcome_history(
    customer: np.ndarray,
    outcome_day: np.ndarray,
    defaulted: np.ndarray,
    write_off_day: np.ndarray,
    query_customer: np.ndarray,
    query_day: np.ndarray,
) -> dict[str, np.ndarray]:
    """Defaults and write-offs known by T; default rate over invoices whose outcome is known by T."""
    known = outcome_day < NO_DAY
    index = AsOf(customer[known], outcome_day[known])
    cum_default = index.group_cumsum(defaulted[known].astype(np.float64))
    pos = index.last_at_or_before(query_customer, query_day)
    resolved = index.count_at_or_before(query_customer, query_day).astype(np.float64)
    defaults = index.take(cum_default, pos, 0.0)
    written = write_off_day < NO_DAY
    write_offs = AsOf(customer[written], write_off_day[written]).count_at_or_before(query_customer, query_day)
    return {
        "hist_default_count": defaults,
        "hist_outcome_count": resolved,
        "hist_default_rate": _safe_div(defaults, resolved),
        "hist_write_off_count": write_offs.astype(np.float64),
    }


WEEKDAY_SHARE_COLUMNS = [f"hist_run_share_{name}" for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
"""Share of the customer's payment runs (distinct payment dates) on each weekday, Monday first."""
_MAX_BUSINESS_DAY_OF_MONTH = 23  # no month has more than 23 weekdays
_LAST_K_GAPS = 10


def payment_habits(
    customer: np.ndarray,
    payment_day: np.ndarray,
    query_customer: np.ndarray,
    query_day: np.ndarray,
    calendar: BusinessCalendar | None = None,
    customer_calendar: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """When the customer pays: days since the last payment, month/quarter-end and weekday concentration, and its
    payment-run pattern on its own business calendar (`calendar` row `customer_calendar[c]` for customer c; weekends
    only when not given)."""
    index = AsOf(customer, payment_day)
    month_end = (month_end_day(payment_day) - payment_day <= 2).astype(np.float64)
    quarter_end = (quarter_end_day(payment_day) - payment_day <= 4).astype(np.float64)
    mid_month = (np.abs(day_of_month(payment_day) - 15) <= 1).astype(np.float64)
    pos = index.last_at_or_before(query_customer, query_day)
    n = index.count_at_or_before(query_customer, query_day).astype(np.float64)
    last_day = index.take(index.sorted_values(payment_day).astype(np.float64), pos)
    wd = weekday(payment_day)
    weekday_counts = np.stack(
        [index.take(index.group_cumsum((wd == d).astype(np.float64)), pos, 0.0) for d in range(7)], axis=1
    )
    out = {
        "hist_payment_count": n,
        "days_since_last_payment": query_day - last_day,
        "hist_month_end_payment_share": _safe_div(index.take(index.group_cumsum(month_end), pos, 0.0), n),
        "hist_quarter_end_payment_share": _safe_div(index.take(index.group_cumsum(quarter_end), pos, 0.0), n),
        "hist_mid_month_payment_share": _safe_div(index.take(index.group_cumsum(mid_month), pos, 0.0), n),
        "hist_weekday_concentration": _safe_div(weekday_counts.max(axis=1), n),
        "hist_modal_payment_weekday": np.where(n > 0, weekday_counts.argmax(axis=1), np.nan),
    }
    if calendar is None or customer_calendar is None:
        calendar = BusinessCalendar.covering([], np.r_[payment_day, query_day])
        customer_calendar = np.zeros(int(max(customer.max(initial=-1), query_customer.max(initial=-1))) + 1, np.int64)
    out.update(payment_runs(customer, payment_day, query_customer, query_day, calendar, customer_calendar))
    return out


def payment_runs(
    customer: np.ndarray,
    payment_day: np.ndarray,
    query_customer: np.ndarray,
    query_day: np.ndarray,
    calendar: BusinessCalendar,
    customer_calendar: np.ndarray,
) -> dict[str, np.ndarray]:
    """The customer's own payment-run pattern as of T, from its payment runs (distinct payment dates) dated <= T.

    Weekday shares, shares on the last business day of the month / quarter, how concentrated the runs are on one
    business day of the month, the median gap between consecutive runs (last 10 gaps, days), its coefficient of
    variation (0 = perfectly regular) and the days from T to the next expected run (last run + whole multiples of
    the median gap, the first one after T).
    """
    order = np.lexsort((payment_day, customer))
    pay_customer, pay_day = np.asarray(customer, np.int64)[order], np.asarray(payment_day, np.int64)[order]
    first = np.r_[True, (pay_customer[1:] != pay_customer[:-1]) | (pay_day[1:] != pay_day[:-1])][: len(order)]
    run_customer, run_day = pay_customer[first], pay_day[first]  # one row per run, sorted by (customer, day)
    code = np.asarray(customer_calendar, dtype=np.int64)[run_customer]
    runs = AsOf(run_customer, run_day)
    pos = runs.last_at_or_before(query_customer, query_day)
    n = runs.count_from(pos).astype(np.float64)

    def share(flag: np.ndarray) -> np.ndarray:
        return _safe_div(runs.take(runs.group_cumsum(flag.astype(np.float64)), pos, 0.0), n)

    out = {"hist_run_count": n}
    wd = weekday(run_day)
    out.update({name: share(wd == d) for d, name in enumerate(WEEKDAY_SHARE_COLUMNS)})
    out["hist_month_end_run_share"] = share(run_day == calendar.month_end_business_day(code, run_day))
    out["hist_quarter_end_run_share"] = share(run_day == calendar.quarter_end_business_day(code, run_day))
    business_day = calendar.business_day_index(code, run_day)
    by_business_day = np.stack([share(business_day == b) for b in range(1, _MAX_BUSINESS_DAY_OF_MONTH + 1)], axis=1)
    by_business_day = np.nan_to_num(by_business_day)  # NaN only where there is no run yet (n = 0)
    out["hist_business_day_of_month_concentration"] = np.where(n > 0, by_business_day.max(axis=1), np.nan)
    out["hist_modal_business_day_of_month"] = np.where(n > 0, by_business_day.argmax(axis=1) + 1, np.nan)

    # gaps between consecutive runs, each dated at the later run (known once that run happened)
    later = np.r_[False, run_customer[1:] == run_customer[:-1]] if len(run_day) else np.zeros(0, dtype=bool)
    gap = (run_day[1:] - run_day[:-1]).astype(np.float64)[later[1:]] if len(run_day) else np.zeros(0)
    gaps = AsOf(run_customer[later], run_day[later])
    gap_pos = gaps.last_at_or_before(query_customer, query_day)
    sorted_gap = gaps.sorted_values(gap)
    median = gaps.take(_group_last_k_median(sorted_gap, gaps.group_start, _LAST_K_GAPS), gap_pos)
    gap_sum, gap_n = _group_last_k_sum(gaps.group_cumsum(gap), gaps.group_start, _LAST_K_GAPS)
    gap_sq, _ = _group_last_k_sum(gaps.group_cumsum(gap**2), gaps.group_start, _LAST_K_GAPS)
    count = gaps.take(gap_n, gap_pos, 0.0)
    mean = _safe_div(gaps.take(gap_sum, gap_pos, 0.0), count)
    std = np.sqrt(np.clip(_safe_div(gaps.take(gap_sq, gap_pos, 0.0), count) - mean**2, 0.0, None))
    out["hist_run_gap_median"] = median
    out["hist_run_gap_cv"] = _safe_div(std, mean)
    last_run = runs.take(runs.sorted_values(run_day).astype(np.float64), pos)
    with np.errstate(invalid="ignore", divide="ignore"):
        steps = np.maximum(1.0, np.ceil((query_day + 1 - last_run) / median))
    out["days_to_next_expected_run"] = np.where(median > 0, last_run + steps * median - query_day, np.nan)
    return out


def count_until(group: np.ndarray, day: np.ndarray, query_group: np.ndarray, query_day: np.ndarray) -> np.ndarray:
    """How many events of each query's group are dated <= the query day."""
    return AsOf(group, day).count_at_or_before(query_group, query_day).astype(np.float64)


def sum_until(
    group: np.ndarray, day: np.ndarray, values: np.ndarray, query_group: np.ndarray, query_day: np.ndarray
) -> np.ndarray:
    """Sum of event values of each query's group dated <= the query day."""
    index = AsOf(group, day)
    return index.take(index.group_cumsum(values), index.last_at_or_before(query_group, query_day), 0.0)
