"""The period close as a pure computation: the aging, the KPIs and the allowance frozen as of a month's end, the
change against the previous close and its journal entry (formulas and layouts: docs/close.md).

Everything is computed on `ledger.as_of(period end)`: a fact dated after the period end (a late payment, a back-dated
write-off entered later is still dated, and counts only if dated in the period) cannot change a close. Money is in
base-currency cents at the fx rate as of the period end (the closing rate) and exact (`Decimal`, integers of cents):

- model-based expected credit loss per invoice = open cents x P(default) x LGD, rounded to the cent (half to even).
  The pools (aging bucket x segment) and the total are sums of those invoice cents, so they reconcile with the
  invoice-level figures exactly, with no residue to allocate; `unrounded_total` says how far the rounding moved it.
- provision matrix: the loss rates of `serving.services.provision` (defaulted share of each bucket's balance at the
  past 12 month-ends, outcomes known by the period end only) as exact fractions; allowance per bucket = open cents
  x rate, rounded to the cent.
- the booked allowance = the chosen basis (model or matrix) + an optional forward-looking adjustment (signed amount,
  with a reason and its author). Bad-debt expense = closing - opening allowance + the period's write-offs, so the
  journal entry balances and moves the allowance account from the opening to the closing balance.

The result is a plain JSON-ready dict (money as decimal text): what a close freezes, and what recomputing it from
the same inputs must give again, key for key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from features.errors import PayriskError
from features.ledger.ledger import Ledger
from serving.services.kpis import AGING_BUCKETS, CLOSING_RATE, aging, compute_kpis, open_book
from serving.services.provision import LOOKBACK_MONTHS, matrix_cents

BASES = ("model", "matrix")
MATRIX_GROUPS = ("segment", "country")
NO_SEGMENT = "(none)"
CENT = Decimal("0.01")
PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
ECL_FORMULA = (
    "model-based lifetime expected credit loss (IFRS 9 simplified approach / CECL): per invoice open at the period "
    "end, open amount x P(default) x LGD, rounded to the cent (half to even); pools and total are sums of those cents"
)
MATRIX_FORMULA = (
    "provision matrix: loss rate per aging bucket = defaulted amount / amount, over invoices open at each of the "
    "{months} month-ends before the period end whose outcome is known by the period end (default = not settled by "
    "due date + {horizon} days, or written off); allowance = open amount in the bucket x loss rate, to the cent"
)


class CloseError(PayriskError):
    """A close cannot be computed from these inputs (bad period, a period not over yet, scores not fitting)."""


@dataclass(frozen=True)
class Adjustment:
    """A forward-looking adjustment to the booked allowance, entered by a person: a signed base-currency amount."""

    amount: Decimal
    reason: str
    author: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise CloseError("a forward-looking adjustment needs a reason")
        if not self.author.strip():
            raise CloseError("a forward-looking adjustment needs its author")
        if Decimal(self.amount) != Decimal(self.amount).quantize(CENT):
            raise CloseError(f"the adjustment amount {self.amount} has more than 2 decimals")


@dataclass(frozen=True)
class Accounts:
    """General-ledger accounts of the journal entry (PAYRISK_GL_*)."""

    bad_debt_expense: str = "6100"
    allowance: str = "1290"
    receivables: str = "1200"


@dataclass(frozen=True)
class CloseInputs:
    """What a close is computed from, besides the ledger and the scores (all of it frozen with the close)."""

    period: str
    lgd: Decimal = Decimal(1)
    basis: str = "model"
    adjustment: Adjustment | None = None
    opening_allowance: Decimal = Decimal(0)
    """The booked allowance of the previous approved close (0 without one: the first close books all of it)."""
    previous_close_id: int | None = None
    accounts: Accounts = Accounts()
    lookback_months: int = LOOKBACK_MONTHS
    matrix_by: str | None = None
    """None: one provision matrix for the book; 'segment' or 'country' (the region): one matrix per group, each
    with its own history's loss rates, the matrix allowance being the sum of the groups'."""

    def as_json(self) -> dict:
        out = asdict(self)
        out["lgd"] = str(self.lgd)
        out["opening_allowance"] = money(self.opening_allowance)
        if self.adjustment is not None:
            out["adjustment"] = {**asdict(self.adjustment), "amount": money(self.adjustment.amount)}
        return out

    @classmethod
    def from_json(cls, data: Mapping) -> CloseInputs:
        adjustment = data.get("adjustment")
        return cls(
            period=data["period"],
            lgd=Decimal(data["lgd"]),
            basis=data["basis"],
            adjustment=None if adjustment is None else Adjustment(Decimal(adjustment["amount"]), **_rest(adjustment)),
            opening_allowance=Decimal(data["opening_allowance"]),
            previous_close_id=data.get("previous_close_id"),
            accounts=Accounts(**data["accounts"]),
            lookback_months=int(data["lookback_months"]),
            matrix_by=data.get("matrix_by"),
        )


def _rest(adjustment: Mapping) -> dict:
    return {"reason": adjustment["reason"], "author": adjustment["author"]}


def money(value: Decimal | int) -> str:
    """Decimal text with exactly 2 decimals (a Decimal of units, or an int of cents via `cents_text`)."""
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN):f}"


def cents_text(cents: int) -> str:
    return money(Decimal(cents) / 100)


def period_bounds(period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """'YYYY-MM' -> (first day, last day) of the month. Raises CloseError for anything else."""
    match = PERIOD_PATTERN.match(period or "")
    if not match:
        raise CloseError(f"period '{period}' is not a month written YYYY-MM (e.g. 2024-03)")
    start = pd.Timestamp(int(match.group(1)), int(match.group(2)), 1)
    return start, start + pd.offsets.MonthEnd(0)


def previous_period(period: str) -> str:
    start, _ = period_bounds(period)
    return (start - pd.DateOffset(months=1)).strftime("%Y-%m")


def last_full_period(known_until: pd.Timestamp) -> str:
    """The latest month the ledger covers to its end (the month of `known_until` if it is its last day)."""
    day = pd.Timestamp(known_until).normalize()
    end = day if day == day + pd.offsets.MonthEnd(0) else day - pd.offsets.MonthEnd(1)
    return end.strftime("%Y-%m")


def check_period_over(period: str, known_until: pd.Timestamp) -> None:
    """Raise CloseError unless the ledger covers the whole period (a close of a month not over would miss facts)."""
    _, end = period_bounds(period)
    if pd.Timestamp(known_until).normalize() < end:
        raise CloseError(
            f"period {period} ends {end.date()}, after the ledger's last fact ({pd.Timestamp(known_until).date()}): "
            "close a month the ledger covers to its end"
        )


def compute_close(ledger: Ledger, scores: pd.DataFrame, inputs: CloseInputs) -> dict:
    """The frozen figures of a close of `inputs.period` (see the module docstring); `scores` hold `invoice_id` and
    `p_default` for every invoice open at the period end (a scoring run as of the period end)."""
    if inputs.basis not in BASES:
        raise CloseError(f"basis '{inputs.basis}' is not one of {', '.join(BASES)}")
    if inputs.matrix_by is not None and inputs.matrix_by not in MATRIX_GROUPS:
        raise CloseError(f"matrix_by '{inputs.matrix_by}' is not one of {', '.join(MATRIX_GROUPS)}")
    if not Decimal(0) <= inputs.lgd <= Decimal(1):
        raise CloseError(f"LGD {inputs.lgd} is not in [0, 1]")
    start, end = period_bounds(inputs.period)
    check_period_over(inputs.period, ledger.known_until)
    cut = ledger.as_of(end)
    book = open_book(cut, end)
    invoices = model_ecl_invoices(cut, book, scores, inputs.lgd)
    model = ecl_pools(invoices)
    matrix = matrix_allowance(cut, end, inputs.lookback_months)
    groups = [] if inputs.matrix_by is None else grouped_matrices(cut, end, inputs.lookback_months, inputs.matrix_by)
    if groups:
        matrix = {**matrix, "total_cents": sum(g["total_cents"] for g in groups)}
    write_offs = period_write_offs(cut, start, end)
    basis_cents = model["total_cents"] if inputs.basis == "model" else matrix["total_cents"]
    adjustment_cents = 0 if inputs.adjustment is None else to_cents(inputs.adjustment.amount)
    closing = basis_cents + adjustment_cents
    if closing < 0:
        raise CloseError(f"the adjustment makes the allowance negative ({cents_text(closing)})")
    opening = to_cents(inputs.opening_allowance)
    written_off = sum(w["cents"] for w in write_offs)
    expense = closing - opening + written_off
    movement = {
        "opening": cents_text(opening),
        "write_offs": cents_text(written_off),
        "bad_debt_expense": cents_text(expense),
        "closing": cents_text(closing),
        "change": cents_text(closing - opening),
        "basis": inputs.basis,
        "basis_amount": cents_text(basis_cents),
        "adjustment": cents_text(adjustment_cents),
        "formula": "closing = basis allowance + adjustment; bad-debt expense = closing - opening + write-offs of the "
        "period (opening: the previous approved close's closing allowance, 0 without one)",
    }
    report = compute_kpis(cut, end)
    buckets = aging(book)
    return {
        "period": inputs.period,
        "period_start": start.date().isoformat(),
        "period_end": end.date().isoformat(),
        "base_currency": ledger.base_currency,
        "ledger_fingerprint": cut.fingerprint(),
        "inputs": inputs.as_json(),
        "aging": {
            "buckets": {b: cents_text(buckets[b]) for b in AGING_BUCKETS},
            "total": cents_text(sum(buckets.values())),
            "open_invoices": len(book),
            "formula": f"open amount per days-past-due bucket at {end.date()}; {CLOSING_RATE}",
        },
        "kpis": {
            name: {"value": None if f.value is None else round(float(f.value), 6), "unit": f.unit, "formula": f.formula}
            for name, f in report.figures.items()
        },
        "model_ecl": {
            "total": cents_text(model["total_cents"]),
            "unrounded_total": f"{model['unrounded'] / 100:f}",
            "pools": model["pools"],
            "invoices": [
                {k: v for k, v in row.items() if k not in ("cents", "ecl_cents", "exact")} for row in invoices
            ],
            "formula": ECL_FORMULA,
        },
        "provision_matrix": {
            "rows": matrix["rows"],
            "total": cents_text(matrix["total_cents"]),
            "by": inputs.matrix_by,
            "groups": [{"group": g["group"], "rows": g["rows"], "total": cents_text(g["total_cents"])} for g in groups],
            "lookback_months": inputs.lookback_months,
            "formula": MATRIX_FORMULA.format(months=inputs.lookback_months, horizon=cut.default_days),
        },
        "allowance": movement,
        "write_offs": [{k: v for k, v in w.items() if k != "cents"} for w in write_offs],
        "journal": journal_lines(inputs, expense, written_off),
    }


def to_cents(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def model_ecl_invoices(ledger: Ledger, book: pd.DataFrame, scores: pd.DataFrame, lgd: Decimal) -> list[dict]:
    """One row per invoice open at the period end: open amount, P(default), ECL (cents), bucket and segment.
    Raises CloseError when the scores do not cover exactly the open book or lack P(default)."""
    for column in ("invoice_id", "p_default"):
        if column not in scores.columns:
            raise CloseError(f"the scores lack column '{column}'")
    p_by_id = dict(zip(scores["invoice_id"].astype(str), scores["p_default"].astype("float64"), strict=True))
    open_ids = set(book["invoice_id"].astype(str))
    missing, extra = sorted(open_ids - set(p_by_id)), sorted(set(p_by_id) - open_ids)
    if missing or extra:
        raise CloseError(
            "the scores do not cover the invoices open at the period end: "
            + "; ".join(
                part
                for part in (
                    f"{len(missing)} open invoice(s) unscored (e.g. {', '.join(missing[:5])})" if missing else "",
                    f"{len(extra)} scored invoice(s) not open (e.g. {', '.join(extra[:5])})" if extra else "",
                )
                if part
            )
            + "; score the ledger as of the period end again"
        )
    unknown = sorted(i for i, p in p_by_id.items() if not np.isfinite(p))
    if unknown:
        raise CloseError(
            f"{len(unknown)} invoice(s) have no P(default) (e.g. {', '.join(unknown[:5])}): the model has no default "
            "model, so there is no model-based allowance"
        )
    segments = segment_of(ledger)
    rows = []
    for invoice_id, customer_id, bucket, days, cents in zip(
        book["invoice_id"].astype(str),
        book["customer_id"].astype(str),
        book["bucket"],
        book["days_past_due"],
        book["open_cents"],
        strict=True,
    ):
        p = Decimal(repr(p_by_id[invoice_id]))
        exact = Decimal(int(cents)) * p * lgd
        ecl = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        rows.append(
            {
                "invoice_id": invoice_id,
                "customer_id": customer_id,
                "segment": segments.get(customer_id, NO_SEGMENT),
                "bucket": str(bucket),
                "days_past_due": int(days),
                "open_amount": cents_text(int(cents)),
                "p_default": str(p),
                "ecl": cents_text(ecl),
                "cents": int(cents),
                "ecl_cents": ecl,
                "exact": exact,
            }
        )
    rows.sort(key=lambda r: r["invoice_id"])
    return rows


def segment_of(ledger: Ledger) -> dict[str, str]:
    customers = ledger.customers
    if "segment" not in customers.columns:
        return {}
    segments = customers["segment"].astype("object").where(customers["segment"].notna(), NO_SEGMENT)
    return {str(c): (str(s).strip() or NO_SEGMENT) for c, s in zip(customers["customer_id"], segments, strict=True)}


def ecl_pools(invoices: list[dict]) -> dict:
    """Pools by (aging bucket, segment): sums of the invoices' cents (so they add up to the total exactly)."""
    pools: dict[tuple[str, str], dict] = {}
    for row in invoices:
        pool = pools.setdefault((row["bucket"], row["segment"]), {"open": 0, "ecl": 0, "invoices": 0})
        pool["open"] += row["cents"]
        pool["ecl"] += row["ecl_cents"]
        pool["invoices"] += 1
    order = {b: k for k, b in enumerate(AGING_BUCKETS)}
    listed = [
        {
            "bucket": bucket,
            "segment": segment,
            "invoices": pool["invoices"],
            "open_amount": cents_text(pool["open"]),
            "ecl": cents_text(pool["ecl"]),
            "coverage": None if pool["open"] == 0 else round(pool["ecl"] / pool["open"], 6),
        }
        for (bucket, segment), pool in sorted(pools.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))
    ]
    return {
        "pools": listed,
        "total_cents": sum(row["ecl_cents"] for row in invoices),
        "unrounded": sum((row["exact"] for row in invoices), Decimal(0)),
    }


def matrix_allowance(ledger: Ledger, end: pd.Timestamp, lookback_months: int) -> dict:
    """The provision matrix as of the period end, with exact loss rates (fractions of cents) and cent allowances."""
    exposure, defaulted = matrix_cents(ledger, end, lookback_months)
    current = aging(open_book(ledger, end))
    rows, total = [], 0
    for bucket in AGING_BUCKETS:
        rate = Fraction(defaulted[bucket], exposure[bucket]) if exposure[bucket] else None
        allowance = 0 if rate is None else round(current[bucket] * rate)  # Fraction round: half to even
        total += allowance
        rows.append(
            {
                "bucket": bucket,
                "historical_amount": cents_text(exposure[bucket]),
                "defaulted_amount": cents_text(defaulted[bucket]),
                "loss_rate": None if rate is None else f"{Decimal(rate.numerator) / Decimal(rate.denominator):.8f}",
                "open_amount": cents_text(current[bucket]),
                "allowance": cents_text(allowance),
            }
        )
    return {"rows": rows, "total_cents": total}


def grouped_matrices(ledger: Ledger, end: pd.Timestamp, lookback_months: int, by: str) -> list[dict]:
    """One provision matrix per customer group (`by`: a customers column), each from its own customers' history;
    a group with no known history in a bucket has no loss rate there (allowance 0), as for the whole book."""
    customers = ledger.customers
    labels = customers[by].astype("object").where(customers[by].notna(), NO_SEGMENT) if by in customers else None
    if labels is None:
        return []
    labels = labels.map(lambda v: str(v).strip() or NO_SEGMENT)
    out = []
    for group in sorted(set(labels)):
        ids = set(customers.loc[(labels == group).to_numpy(), "customer_id"].astype(str))
        out.append({"group": group, **matrix_allowance(_customers_ledger(ledger, ids), end, lookback_months)})
    return out


def _customers_ledger(ledger: Ledger, customer_ids: set[str]) -> Ledger:
    """The ledger of these customers only (their invoices and what hangs on them; fx rates whole)."""
    tables = dict(ledger.tables)
    tables["customers"] = ledger.customers[ledger.customers["customer_id"].astype(str).isin(customer_ids)]
    invoices = ledger.invoices[ledger.invoices["customer_id"].astype(str).isin(customer_ids)]
    tables["invoices"] = invoices
    for name in ("payments", "adjustments", "disputes", "promises"):
        frame = ledger.tables[name]
        tables[name] = frame[frame["invoice_id"].isin(invoices["invoice_id"])]
    return Ledger(
        tables,
        base_currency=ledger.base_currency,
        default_days=ledger.default_days,
        known_until=ledger.known_until,
        extras=ledger.extras,
    )


def period_write_offs(ledger: Ledger, start: pd.Timestamp, end: pd.Timestamp) -> list[dict]:
    """Write-offs dated in the period, in base currency at the closing rate (the rate as of the period end)."""
    adjustments = ledger.adjustments
    chosen = adjustments[
        (adjustments["kind"] == "write_off") & (adjustments["date"] >= start) & (adjustments["date"] <= end)
    ]
    if chosen.empty:
        return []
    currency = ledger.invoices.set_index("invoice_id")["currency"]
    currencies = currency.reindex(chosen["invoice_id"]).reset_index(drop=True)
    rates = ledger.fx_rate(currencies, pd.Series([end] * len(chosen)))
    if np.isnan(rates).any():
        raise CloseError(f"no fx rate to {ledger.base_currency} at {end.date()} for a write-off's currency")
    out = []
    for (_, row), rate in zip(chosen.iterrows(), rates, strict=True):
        cents = round(float(row["amount"]) * float(rate) * 100)
        out.append(
            {
                "adjustment_id": str(row["adjustment_id"]),
                "invoice_id": str(row["invoice_id"]),
                "date": row["date"].date().isoformat(),
                "amount": cents_text(cents),
                "cents": cents,
            }
        )
    return sorted(out, key=lambda w: (w["date"], w["adjustment_id"]))


def journal_lines(inputs: CloseInputs, expense_cents: int, write_off_cents: int) -> list[dict]:
    """The journal entry: the allowance movement (Dr bad-debt expense / Cr allowance; reversed for a release) and
    the period's write-offs (Dr allowance / Cr receivables). Lines of zero are left out; debits = credits."""
    accounts = inputs.accounts
    lines: list[dict] = []

    def line(account: str, name: str, debit: int, credit: int, memo: str) -> None:
        lines.append(
            {
                "line": len(lines) + 1,
                "account": account,
                "account_name": name,
                "debit": cents_text(debit),
                "credit": cents_text(credit),
                "memo": memo,
            }
        )

    period = inputs.period
    if expense_cents > 0:
        line(accounts.bad_debt_expense, "Bad debt expense", expense_cents, 0, f"Allowance for {period}")
        line(accounts.allowance, "Allowance for doubtful accounts", 0, expense_cents, f"Allowance for {period}")
    elif expense_cents < 0:
        line(accounts.allowance, "Allowance for doubtful accounts", -expense_cents, 0, f"Allowance release {period}")
        line(accounts.bad_debt_expense, "Bad debt expense", 0, -expense_cents, f"Allowance release {period}")
    if write_off_cents:
        line(accounts.allowance, "Allowance for doubtful accounts", write_off_cents, 0, f"Write-offs {period}")
        line(accounts.receivables, "Accounts receivable", 0, write_off_cents, f"Write-offs {period}")
    return lines


def journal_totals(lines: list[dict]) -> tuple[Decimal, Decimal]:
    """(total debits, total credits) of journal lines."""
    return (
        sum((Decimal(x["debit"]) for x in lines), Decimal(0)),
        sum((Decimal(x["credit"]) for x in lines), Decimal(0)),
    )
