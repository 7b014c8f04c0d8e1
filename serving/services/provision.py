"""The aging provision matrix (loss rate per aging bucket from the ledger's own history) and its allowance.

For each of the last `lookback_months` month-ends M before the date T, every invoice open at M is put in its aging
bucket at M; it counts as defaulted if the ledger as of T says it defaulted (not settled by due + default horizon,
or written off). Invoices whose outcome is not yet known at T (still open, default date after T) are left out, so
recent month-ends do not bias the rates downward. Loss rate = defaulted amount / amount, per bucket (loss given
default 1). Allowance = current AR per bucket x its loss rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.ledger.ledger import Ledger, to_date
from serving.services.kpis import AGING_BUCKETS, aging, open_book

LOOKBACK_MONTHS = 12


@dataclass(frozen=True)
class MatrixRow:
    bucket: str
    historical_amount: float
    defaulted_amount: float
    loss_rate: float | None
    current_amount: float
    allowance: float


def month_ends(as_of: object, months: int = LOOKBACK_MONTHS) -> list[pd.Timestamp]:
    """The last `months` calendar month-ends strictly before `as_of`, oldest first."""
    cutoff = to_date(as_of)
    last = cutoff - pd.offsets.MonthEnd(1)
    return [to_date(last - pd.offsets.MonthEnd(k)) for k in range(months - 1, -1, -1)]


def matrix_cents(
    ledger: Ledger, as_of: object, lookback_months: int = LOOKBACK_MONTHS
) -> tuple[dict[str, int], dict[str, int]]:
    """The history behind the loss rates, in base-currency cents at the rate as of `as_of`: per aging bucket, the
    amount open at the past month-ends whose outcome is known at `as_of`, and the part of it that defaulted."""
    cutoff = to_date(as_of)
    status = ledger.settlement.set_index("invoice_id")
    default_by = status["due_date"] + pd.to_timedelta(ledger.default_days, unit="D")
    defaulted_by_cutoff = status["default_date"] <= cutoff  # the as-of rule: a default is a fact once it is dated
    known = (status["close_date"] <= cutoff) | (default_by <= cutoff) | defaulted_by_cutoff
    exposure = {b: 0 for b in AGING_BUCKETS}
    defaulted = {b: 0 for b in AGING_BUCKETS}
    for month_end in month_ends(cutoff, lookback_months):
        book = open_book(ledger, month_end, rate_date=cutoff)
        if book.empty:
            continue
        ids = book["invoice_id"]
        book = book[known.reindex(ids).fillna(False).to_numpy(dtype=bool)]
        hit = defaulted_by_cutoff.reindex(book["invoice_id"]).fillna(False).to_numpy(dtype=bool)
        for bucket, cents in book.groupby("bucket")["open_cents"].sum().items():
            exposure[bucket] += int(cents)
        for bucket, cents in book[hit].groupby("bucket")["open_cents"].sum().items():
            defaulted[bucket] += int(cents)
    return exposure, defaulted


def provision_matrix(ledger: Ledger, as_of: object, lookback_months: int = LOOKBACK_MONTHS) -> list[MatrixRow]:
    """Loss rate per aging bucket from history, and the allowance it implies on the open book at `as_of`."""
    cutoff = to_date(as_of)
    exposure, defaulted = matrix_cents(ledger, cutoff, lookback_months)
    current = aging(open_book(ledger, cutoff))
    rows = []
    for bucket in AGING_BUCKETS:
        rate = defaulted[bucket] / exposure[bucket] if exposure[bucket] else None
        allowance = float(np.round(current[bucket] * (rate or 0.0)) / 100)
        rows.append(
            MatrixRow(bucket, exposure[bucket] / 100, defaulted[bucket] / 100, rate, current[bucket] / 100, allowance)
        )
    return rows


MATRIX_FORMULA = (
    "provision matrix: loss rate per aging bucket = amount that defaulted / amount in the bucket, over invoices open "
    "at each of the last {months} month-ends whose outcome is known at the KPI date (default = not settled by due "
    "date + {horizon} days, or written off; loss given default 1); allowance = current AR in the bucket x loss rate"
)
MODEL_FORMULA = (
    "model-based allowance: sum of expected_loss (open amount x P(default) x LGD) over the invoices of "
    "the latest stored scoring run"
)
