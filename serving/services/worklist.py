"""A collector's worklist: their accounts ranked by what is at stake, each with a suggested next action.

Pure: scores (the latest stored run), the ledger and the activities in; accounts out. Open invoices and amounts come
from the ledger as of the worklist date (so an invoice paid since the scoring run drops out); probabilities come
from the scores, whose weeks count from the run's as-of date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby

import numpy as np
import pandas as pd

from features.ledger.contract import AMOUNT_TOLERANCE
from features.ledger.ledger import Ledger, to_date
from serving.services.kpis import AGING_BUCKETS, open_book
from serving.services.stake import WEEK_COLUMNS, invoice_stake
from serving.services.worklist_order import WorklistPolicy, order_accounts

LATER_WEEKS = WEEK_COLUMNS[4:]
HIGH_P_DEFAULT = 0.5
REMINDER_DAYS = 7
STAKE_FORMULA = (
    "at stake = sum over the account's open invoices, in base currency, of: past due: expected_loss x"
    " PAYRISK_WORKLIST_LOSS_WEIGHT + past-due amount x P(still unsettled when it enters the next aging bucket) x"
    " PAYRISK_WORKLIST_SLIP_COST; not yet due: only if due within PAYRISK_WORKLIST_REMINDER_DAYS, open amount x"
    " P(not settled by the due date) x PAYRISK_WORKLIST_REMINDER_WEIGHT (+ expected_loss x"
    " PAYRISK_WORKLIST_CURRENT_LOSS_WEIGHT). Probabilities from the latest scoring run's weekly distribution"
    " (uniform within a week, conditional on being open at the worklist date), amounts as of the worklist date;"
    " unscored invoices count 0. Accounts worked within PAYRISK_WORKLIST_COOLDOWN_DAYS move down unless a promise"
    " broke or a dispute opened since; each collector's first PAYRISK_COLLECTOR_CAPACITY accounts are today's"
)
ACTIONS = ("dispute follow-up", "escalate to agency", "call", "reminder email", "no action")


@dataclass(frozen=True)
class WorklistInvoice:
    invoice_id: str
    open_amount: float
    currency: str
    open_amount_base: float
    due_date: pd.Timestamp
    days_past_due: int
    p_default: float | None
    pay_date_median_within_horizon: pd.Timestamp | None
    expected_loss: float
    cash_not_expected_4_weeks: float
    reasons: list[str]


@dataclass(frozen=True)
class OpenDispute:
    dispute_id: str
    invoice_id: str
    opened_date: pd.Timestamp
    reason: str


@dataclass(frozen=True)
class OutstandingPromise:
    promise_id: str
    invoice_id: str
    created_date: pd.Timestamp
    promised_date: pd.Timestamp
    amount: float | None
    broken: bool


@dataclass(frozen=True)
class PlacedInvoice:
    """An open invoice of the account placed with a collection agency: off the collector's list (serving.services
    .agencies)."""

    invoice_id: str
    agency: str


@dataclass
class Account:
    """An account of a collector's worklist, with its open invoices, disputes, promises and suggested next action."""

    rank: int
    """Position in the collector's list (accounts worked within the cooldown come after the others)."""
    customer_id: str
    customer_name: str
    collector_id: str
    at_stake: float
    expected_loss: float
    cash_not_expected_4_weeks: float
    open_amount_base: float
    past_due_amount_base: float
    oldest_days_past_due: int
    aging: dict[str, float]
    next_action: str
    next_action_reason: str
    top_reasons: list[str]
    invoices: list[WorklistInvoice] = field(default_factory=list)
    open_disputes: list[OpenDispute] = field(default_factory=list)
    promises: list[OutstandingPromise] = field(default_factory=list)
    last_activity_date: pd.Timestamp | None = None
    last_activity_kind: str | None = None
    global_rank: int = 0
    """Position by at stake over every account the worklist was built from."""
    today: bool = False
    """Within the collector's daily capacity."""
    cooling_down: bool = False
    """Worked within the cooldown days and nothing changed since (moved down)."""
    placed: list[PlacedInvoice] = field(default_factory=list)
    """Open invoices placed with an agency: shown here, not worked (not in `invoices` nor in the amounts)."""


def build_worklist(
    scores: pd.DataFrame,
    ledger: Ledger,
    activities: pd.DataFrame,
    as_of: object,
    escalate_dpd: int = 120,
    customer_ids: Sequence[str] | None = None,
    policy: WorklistPolicy | None = None,
    placed: Mapping[str, str] | None = None,
) -> list[Account]:
    """The accounts (default: the customers in `scores`) with open invoices at `as_of`, by collector, each ranked
    by at-stake amount with recently worked accounts moved down (see worklist_order); `policy` default: defaults.
    `placed` (invoice id -> agency) are placed with an agency: they leave the list (an account with nothing else
    open leaves it) and are named on their account's `placed`."""
    cutoff = to_date(as_of)
    policy = policy or WorklistPolicy()
    wanted = set(scores["customer_id"]) if customer_ids is None else set(customer_ids)
    book = open_book(ledger, cutoff)  # the as-of rule is applied by open_book and the filters below
    book = book[book["customer_id"].isin(wanted)]
    placed = placed or {}
    is_placed = book["invoice_id"].isin(list(placed)).to_numpy(dtype=bool)
    placed_by_customer: dict[str, list[PlacedInvoice]] = {}
    for invoice_id, customer_id in zip(book["invoice_id"][is_placed], book["customer_id"][is_placed], strict=True):
        placed_by_customer.setdefault(customer_id, []).append(PlacedInvoice(str(invoice_id), placed[invoice_id]))
    book = book[~is_placed]
    book = _with_scores(book, scores, cutoff, policy)
    disputes = _by_customer(_open_disputes(ledger, book, cutoff), book)
    promises = _by_customer(_latest_promises(ledger, book, cutoff), book)
    names = dict(zip(ledger.customers["customer_id"], ledger.customers["name"], strict=True))
    collectors = dict(zip(ledger.customers["customer_id"], ledger.customers["collector_id"], strict=True))
    last = _last_activities(activities, cutoff)
    book = book.sort_values(["customer_id", "at_stake", "invoice_id"], ascending=[True, False, True])
    accounts = []
    for customer_id, rows in groupby(book.to_dict("records"), key=lambda r: r["customer_id"]):
        invoices = list(rows)
        account_disputes, account_promises = disputes.get(customer_id, []), promises.get(customer_id, [])
        action, why = next_action(invoices, account_disputes, account_promises, escalate_dpd)
        cents = {b: 0 for b in AGING_BUCKETS}
        for i in invoices:
            cents[i["bucket"]] += int(i["open_cents"])
        past_due = [i for i in invoices if i["days_past_due"] > 0]
        accounts.append(
            Account(
                rank=0,
                customer_id=str(customer_id),
                customer_name=str(names.get(customer_id, "")),
                collector_id=str(collectors.get(customer_id, "")),
                at_stake=round(sum(i["at_stake"] for i in invoices), 2),
                expected_loss=round(sum(i["expected_loss_now"] for i in invoices), 2),
                cash_not_expected_4_weeks=round(sum(i["cash_later"] for i in invoices), 2),
                open_amount_base=sum(cents.values()) / 100,
                past_due_amount_base=sum(int(i["open_cents"]) for i in past_due) / 100,
                oldest_days_past_due=max((int(i["days_past_due"]) for i in past_due), default=0),
                aging={b: c / 100 for b, c in cents.items()},
                next_action=action,
                next_action_reason=why,
                top_reasons=_top_reasons(invoices),
                invoices=[_invoice(i) for i in invoices],
                open_disputes=account_disputes,
                promises=account_promises,
                last_activity_date=last.get(customer_id, (None, None))[0],
                last_activity_kind=last.get(customer_id, (None, None))[1],
                placed=sorted(placed_by_customer.get(customer_id, []), key=lambda p: p.invoice_id),
            )
        )
    return order_accounts(accounts, cutoff, policy)


def _with_scores(
    book: pd.DataFrame, scores: pd.DataFrame, cutoff: pd.Timestamp, policy: WorklistPolicy
) -> pd.DataFrame:
    columns = [
        "invoice_id",
        "as_of",
        "open_amount_base",
        "expected_loss",
        "p_default",
        "p_pay_later",
        "pay_date_median_within_horizon",
        "reasons",
        *WEEK_COLUMNS,
    ]
    scored = scores[columns].rename(columns={"open_amount_base": "scored_base"})
    book = book.merge(scored, on="invoice_id", how="left")
    ratio = np.where(book["scored_base"] > 0, book["open_amount_base"] / book["scored_base"], 1.0)
    later = book["p_pay_later"] + book[LATER_WEEKS].sum(axis=1, min_count=len(LATER_WEEKS))
    book["expected_loss_now"] = (book["expected_loss"] * ratio).fillna(0.0)
    book["cash_later"] = (book["open_amount_base"] * later).fillna(0.0)
    elapsed = (cutoff - pd.to_datetime(book["as_of"]).fillna(cutoff)).dt.days.clip(lower=0).to_numpy()
    stake = invoice_stake(book.assign(expected_loss=book["expected_loss_now"]), policy.weights, elapsed)
    book["at_stake"] = stake["at_stake"].to_numpy()
    book["reasons"] = book["reasons"].fillna("")
    return book


def next_action(
    invoices: Sequence[dict], disputes: list[OpenDispute], promises: list[OutstandingPromise], escalate_dpd: int
) -> tuple[str, str]:
    """The first rule that applies: open dispute -> dispute follow-up; broken promise, or more than `escalate_dpd`
    days past due with P(default) >= 0.5 -> escalate to agency; past due -> call; due within 7 days -> reminder email;
    else no action."""
    if disputes:
        d = disputes[0]
        return "dispute follow-up", f"dispute {d.dispute_id} on {d.invoice_id} open since {d.opened_date.date()}"
    broken = [p for p in promises if p.broken]
    if broken:
        p = broken[0]
        return "escalate to agency", f"promise {p.promise_id} on {p.invoice_id} for {p.promised_date.date()} broken"
    hopeless = [
        i
        for i in invoices
        if i["days_past_due"] > escalate_dpd and pd.notna(i["p_default"]) and i["p_default"] >= HIGH_P_DEFAULT
    ]
    if hopeless:
        i = hopeless[0]
        return "escalate to agency", (
            f"{i['invoice_id']} {i['days_past_due']} days past due, P(default) {i['p_default']:.2f}"
        )
    past_due = [i["days_past_due"] for i in invoices if i["days_past_due"] > 0]
    if past_due:
        return "call", f"{len(past_due)} invoice(s) past due, up to {max(past_due)} days"
    soon = [i for i in invoices if i["days_past_due"] >= -REMINDER_DAYS]
    if soon:
        return "reminder email", f"{len(soon)} invoice(s) due within {REMINDER_DAYS} days"
    return "no action", "nothing past due or due within 7 days"


def _by_customer(items: list, book: pd.DataFrame) -> dict[str, list]:
    owner = dict(zip(book["invoice_id"], book["customer_id"], strict=True))
    grouped: dict[str, list] = {}
    for item in items:
        grouped.setdefault(owner[item.invoice_id], []).append(item)
    return grouped


def _open_disputes(ledger: Ledger, book: pd.DataFrame, cutoff: pd.Timestamp) -> list[OpenDispute]:
    """Disputes on the open invoices opened by `cutoff` and not resolved by then."""
    disputes = ledger.disputes
    open_ = disputes[
        disputes["invoice_id"].isin(book["invoice_id"])
        & (disputes["opened_date"] <= cutoff)
        & (disputes["resolved_date"].isna() | (disputes["resolved_date"] > cutoff))
    ]
    open_ = open_.sort_values(["opened_date", "dispute_id"])
    return [
        OpenDispute(str(r.dispute_id), str(r.invoice_id), r.opened_date, str(r.reason))
        for r in open_.itertuples(index=False)
    ]


def _latest_promises(ledger: Ledger, book: pd.DataFrame, cutoff: pd.Timestamp) -> list[OutstandingPromise]:
    """Per open invoice its latest promise made by `cutoff`, unless kept: broken if its date has passed and the
    payments since it was made fall short of the promised amount (or, without an amount, the invoice is still open)."""
    promises = ledger.promises[
        ledger.promises["invoice_id"].isin(book["invoice_id"]) & (ledger.promises["created_date"] <= cutoff)
    ]
    promises = promises.sort_values(["created_date", "promise_id"]).drop_duplicates("invoice_id", keep="last")
    payments = ledger.payments[
        ledger.payments["invoice_id"].isin(promises["invoice_id"]) & (ledger.payments["payment_date"] <= cutoff)
    ]
    window = promises[["promise_id", "invoice_id", "created_date", "promised_date"]].merge(
        payments[["invoice_id", "payment_date", "amount"]].rename(columns={"amount": "paid"}), on="invoice_id"
    )
    window = window[
        (window["payment_date"] >= window["created_date"]) & (window["payment_date"] <= window["promised_date"])
    ]
    sums = window.groupby("promise_id")["paid"].sum().astype("float64")
    paid = sums.reindex(promises["promise_id"], fill_value=0.0).to_numpy(dtype="float64")
    promised = promises["amount"].to_numpy(dtype="float64")
    kept = ~np.isnan(promised) & (paid >= promised - AMOUNT_TOLERANCE)
    out = [
        OutstandingPromise(
            str(p.promise_id),
            str(p.invoice_id),
            p.created_date,
            p.promised_date,
            None if pd.isna(p.amount) else float(p.amount),
            broken=bool(p.promised_date < cutoff),
        )
        for p in promises[~kept].itertuples(index=False)
    ]
    return sorted(out, key=lambda p: (p.promised_date, p.promise_id))


def _last_activities(activities: pd.DataFrame, cutoff: pd.Timestamp) -> dict[str, tuple[pd.Timestamp, str]]:
    if activities is None or activities.empty:
        return {}
    done = activities[pd.to_datetime(activities["date"]) <= cutoff]
    done = done.sort_values(["date", "activity_id"] if "activity_id" in done else ["date"])
    latest = done.drop_duplicates("customer_id", keep="last")
    return {r.customer_id: (pd.Timestamp(r.date), str(r.kind)) for r in latest.itertuples(index=False)}


def _top_reasons(invoices: Sequence[dict], top: int = 3) -> list[str]:
    """The reason phrases carrying the most at-stake amount over the account's invoices."""
    weight: dict[str, float] = {}
    for invoice in invoices:
        for phrase in _phrases(invoice["reasons"]):
            weight[phrase] = weight.get(phrase, 0.0) + float(invoice["at_stake"]) + 1e-9
    return sorted(weight, key=lambda phrase: -weight[phrase])[:top]


def _phrases(reasons: object) -> list[str]:
    return [part.strip() for part in str(reasons or "").split(";") if part.strip()]


def _invoice(row: dict) -> WorklistInvoice:
    p_default = None if pd.isna(row["p_default"]) else float(row["p_default"])
    point = row["pay_date_median_within_horizon"]
    pay_date = None if pd.isna(point) else pd.Timestamp(point)
    return WorklistInvoice(
        str(row["invoice_id"]),
        float(row["open_amount"]),
        str(row["currency"]),
        float(row["open_amount_base"]),
        row["due_date"],
        int(row["days_past_due"]),
        p_default,
        pay_date,
        round(float(row["expected_loss_now"]), 2),
        round(float(row["cash_later"]), 2),
        _phrases(row["reasons"]),
    )
