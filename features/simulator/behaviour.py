"""How simulated customers pay: intended delay, cash squeezes, disputes, payment runs, promises, instalments,
credit memos, defaults and write-offs. Vectorised over invoices; money in integer minor units.

Nothing is cut at the window end here: the caller drops every row dated after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.simulator.calendar import RunCalendar, day_of_month, month_of_year
from features.simulator.customers import ARCHETYPES, DAYS_PER_MONTH, Customers
from features.simulator.invoices import Invoices

DISPUTE_REASONS = np.array(
    ["pricing", "missing_po", "short_shipment", "damaged_goods", "duplicate_invoice", "service_quality"]
)
BASE_DEFAULT_RATE = np.array([0.002, 0.01, 0.045, 0.006, 0.03])  # by archetype
DRIFT_RHO = 0.8  # month-to-month persistence of a customer's delay drift


@dataclass
class Events:
    """Event rows (not yet cut at the window end); ``*_invoice`` are invoice indices."""

    pay_invoice: np.ndarray
    pay_day: np.ndarray
    pay_units: np.ndarray
    adj_invoice: np.ndarray
    adj_day: np.ndarray
    adj_units: np.ndarray
    adj_write_off: np.ndarray  # bool: write_off (else credit_memo)
    dsp_invoice: np.ndarray
    dsp_opened: np.ndarray
    dsp_resolved: np.ndarray
    dsp_reason: np.ndarray
    ptp_invoice: np.ndarray
    ptp_created: np.ndarray
    ptp_promised: np.ndarray
    ptp_units: np.ndarray


def delay_drift(rng: np.random.Generator, cust: Customers, n_months: int) -> np.ndarray:
    """AR(1) month-by-month drift of each customer's intended days late, shape (customers, n_months), days."""
    eps = rng.normal(0.0, 1.0, (len(cust), n_months)) * cust.drift_sd[:, None]
    drift = np.empty_like(eps)
    drift[:, 0] = eps[:, 0] / np.sqrt(1 - DRIFT_RHO**2)
    for m in range(1, n_months):
        drift[:, m] = DRIFT_RHO * drift[:, m - 1] + eps[:, m]
    return drift


def simulate_events(
    rng: np.random.Generator, cust: Customers, inv: Invoices, cal: RunCalendar, start_day: int, months: int
) -> Events:
    """Decide every invoice's fate and produce the payment, adjustment, dispute and promise rows."""
    c, issued, due = inv.customer, inv.invoice_day, inv.due_day
    n = len(inv)
    habit = cust.habit[c]
    country = cal.codes(cust.country)[c]  # the customer's business calendar
    arch = cust.archetype[c]
    months_in = (due - start_day) / DAYS_PER_MONTH
    since_onset = np.clip((due - cust.onset_day[c]) / DAYS_PER_MONTH, 0.0, None)
    drift = delay_drift(rng, cust, months + 8)[c, np.clip(months_in.astype(np.int64), 0, months + 7)]

    # 1. Intended days late: trend (improving customers), deterioration, drift, invoice size, noise.
    progress = np.clip(months_in / months, 0.0, 1.0)
    trend = cust.delay_base[c] + (cust.delay_end[c] - cust.delay_base[c]) * progress
    median_units = np.exp(cust.log_median_amount[c]) * inv.minor_scale
    size = np.clip(4.0 * np.log(inv.amount_units / median_units), -4.0, 12.0)
    tail = np.where(rng.random(n) < 0.07, rng.exponential(25.0, n), 0.0)
    noise = cust.delay_sd[c] * rng.normal(0.0, 1.0, n) + tail
    days_late = trend + cust.slope[c] * since_onset + drift + size + noise
    intended = due + np.round(days_late).astype(np.int64)
    moy, dom = month_of_year(intended), day_of_month(intended)
    europe = np.isin(cust.country[c], ["DE", "FR", "NL", "IT", "ES", "IE", "CH"])
    slip = ((moy == 12) & (dom >= 20)) | ((moy == 8) & europe)  # holidays: approvals wait
    intended = np.maximum(intended + np.where(slip, rng.integers(4, 14, n), 0), issued + 1)

    # 2. Cash squeeze: everything intended during the episode waits until it is over.
    squeezed = (intended >= cust.squeeze_from[c]) & (intended < cust.squeeze_to[c])
    intended = np.where(squeezed, cust.squeeze_to[c] + rng.integers(0, 10, n), intended)

    # 3. Disputes hold payment until resolved; some end in a credit memo for part or all of the amount.
    deteriorated = since_onset > 0
    disputed = rng.random(n) < cust.dispute_rate[c] * np.where(deteriorated, 2.0, 1.0)
    window = np.maximum(np.minimum(intended, due + 20) - issued, 2)
    opened = issued + 1 + (rng.random(n) * window).astype(np.int64)
    resolved = opened + np.clip(rng.lognormal(np.log(18.0), 0.7, n), 2, 150).astype(np.int64)
    outcome = rng.random(n)
    full_credit = disputed & (outcome > 0.9)
    partial_credit = disputed & (outcome > 0.55) & ~full_credit
    dispute_units = np.where(
        full_credit, inv.amount_units, np.where(partial_credit, _share(inv.amount_units, rng.uniform(0.1, 0.6, n)), 0)
    )
    intended = np.where(disputed, np.maximum(intended, resolved + rng.integers(2, 12, n)), intended)
    lower = np.where(disputed, resolved + 1, issued + 1)  # earliest possible payment day

    # 4. Defaults: random (by archetype, rising after deterioration starts, higher in a squeeze) or failure.
    p_default = BASE_DEFAULT_RATE[arch] + np.where(arch == ARCHETYPES.index("improving"), -0.025 * progress, 0.0)
    p_default = np.minimum(p_default + 0.02 * since_onset + np.where(squeezed, 0.04, 0.0), 0.6)
    failed = intended > cust.failure_day[c]
    defaulted = ((rng.random(n) < p_default) | failed) & ~full_credit
    write_off_day = np.where(
        failed, np.maximum(due + 120, cust.failure_day[c] + 150 + c % 120), due + rng.integers(120, 366, n)
    )
    write_off_day = np.clip(write_off_day, due + 120, due + 365)  # written off 120-365 days past due
    write_off_day = np.maximum(write_off_day, np.where(disputed, resolved + 30, 0))

    # 5. Payment runs: the next run on or after the intended day (prompt payers: the last run before it).
    after = cal.snap_next(intended, habit, country)
    before = cal.snap_prev(intended, habit, country)
    pay = np.where(cust.snap_back[c] & (before >= lower), before, after)

    # 6. Promises to pay on late invoices (a second one when the first is broken).
    promise_rate = cust.promise_rate[c]
    keep_rate = cust.keep_rate[c] * np.where(deteriorated, 0.5, 1.0)
    paid_by = np.where(defaulted, write_off_day, pay)
    eligible = ~full_credit & (defaulted | (pay > due + 10))
    created = np.maximum(due + rng.integers(5, 25, n), lower)
    ptp_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for _ in range(2):
        eligible = eligible & (created < paid_by) & (rng.random(n) < promise_rate)
        promised = cal.snap_next(created + rng.integers(2, 15, n), habit, country)
        kept = eligible & ~defaulted & (rng.random(n) < keep_rate)
        broken = eligible & ~kept
        slack = np.where(rng.random(n) < 0.25, rng.integers(1, 4, n), 0)  # a few days after the promise
        pay = np.where(kept, cal.snap_next(promised + slack, np.zeros(n, np.int64), country), pay)
        pay = np.where(
            broken & ~defaulted, np.maximum(pay, cal.snap_next(promised + rng.integers(7, 30, n), habit, country)), pay
        )
        idx = np.flatnonzero(eligible)
        ptp_rows.append((idx, created[idx], promised[idx]))
        eligible, created, promise_rate = broken, promised + rng.integers(3, 10, n), np.full(n, 0.5)
        paid_by = np.where(defaulted, write_off_day, pay)

    # 7. Credit memos outside disputes, dated before the invoice is paid (or written off).
    memo = ~disputed & (rng.random(n) < cust.credit_memo_rate[c])
    memo_units = np.where(memo, _share(inv.amount_units, rng.uniform(0.02, 0.35, n)), 0)
    memo_day = np.minimum(issued + rng.integers(3, 40, n), np.where(defaulted, write_off_day - 1, pay))
    net_units = inv.amount_units - dispute_units - memo_units

    # 8. Payments: one, or 2-3 instalments for large invoices of instalment payers; defaults pay at most a part.
    large = inv.amount_units > 1.5 * median_units
    k = np.where(cust.instalments[c] & large, 2 + (rng.random(n) < 0.4), 1)
    partial_default = defaulted & ~failed & (rng.random(n) < 0.25) & (pay < write_off_day)
    k = np.where(defaulted & ~partial_default, 0, np.where(partial_default, 1, k))
    k = np.where(net_units > 0, k, 0)
    part_units = _share(net_units, rng.uniform(0.1, 0.6, n))
    due_units = np.where(partial_default, part_units, net_units)
    pay_invoice, pay_day, pay_units = _instalments(rng, k, pay, due_units, habit, country, cal)

    # 9. Write-offs: the rest of a defaulted invoice.
    wo_units = np.where(defaulted, net_units - np.where(partial_default, part_units, 0), 0)
    wo = np.flatnonzero(wo_units > 0)
    dsp = np.flatnonzero(disputed)
    dcm = np.flatnonzero(dispute_units > 0)
    mem = np.flatnonzero(memo)
    ptp_idx = np.concatenate([r[0] for r in ptp_rows])
    return Events(
        pay_invoice=pay_invoice,
        pay_day=pay_day,
        pay_units=pay_units,
        adj_invoice=np.concatenate([dcm, mem, wo]),
        adj_day=np.concatenate([resolved[dcm], memo_day[mem], write_off_day[wo]]),
        adj_units=np.concatenate([dispute_units[dcm], memo_units[mem], wo_units[wo]]),
        adj_write_off=np.concatenate([np.zeros(len(dcm) + len(mem), bool), np.ones(len(wo), bool)]),
        dsp_invoice=dsp,
        dsp_opened=opened[dsp],
        dsp_resolved=resolved[dsp],
        dsp_reason=DISPUTE_REASONS[rng.integers(0, len(DISPUTE_REASONS), len(dsp))],
        ptp_invoice=ptp_idx,
        ptp_created=np.concatenate([r[1] for r in ptp_rows]),
        ptp_promised=np.concatenate([r[2] for r in ptp_rows]),
        ptp_units=net_units[ptp_idx],
    )


def _share(units: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """A fraction of an amount in minor units, at least one unit and strictly less than the amount."""
    return np.clip(np.round(units * fraction).astype(np.int64), 1, np.maximum(units - 1, 1))


def _instalments(
    rng: np.random.Generator,
    k: np.ndarray,
    first_day: np.ndarray,
    units: np.ndarray,
    habit: np.ndarray,
    country: np.ndarray,
    cal: RunCalendar,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each invoice's ``units`` into ``k`` payments, 2-5 weeks apart on the customer's runs.

    The rounding remainder goes on the last instalment, so instalments sum exactly to ``units``.
    """
    inv = np.repeat(np.arange(len(k)), k)
    total = len(inv)
    starts = np.cumsum(k) - k
    pos = np.arange(total) - np.repeat(starts, k)
    gap = np.where(pos > 0, rng.integers(14, 36, total), 0)
    cum = np.cumsum(gap)
    offset = cum - np.repeat(cum[starts[k > 0]] - gap[starts[k > 0]], k[k > 0])
    day = np.where(pos > 0, cal.snap_next(first_day[inv] + offset, habit[inv], country[inv]), first_day[inv])
    weight = 0.5 + rng.random(total)
    weight_sum = np.add.reduceat(weight, starts[k > 0]) if total else weight
    share = np.round(units[inv] * weight / np.repeat(weight_sum, k[k > 0])).astype(np.int64)
    last = pos == np.repeat(k - 1, k)
    share_sum = np.add.reduceat(np.where(last, 0, share), starts[k > 0]) if total else share
    share = np.where(last, units[inv] - np.repeat(share_sum, k[k > 0]), share)
    return inv, day, share
