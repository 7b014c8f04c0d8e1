"""Worklist backtest: at a cutoff, rank every account with open invoices (the worklist as it would have been built
then, the aging orders collectors use, expected loss alone) and measure how much of what went wrong next each
ranking put at the top.

Outcomes per invoice open at the cutoff, in base currency at the cutoff's rate, from the facts after the cutoff:
- write_off: amount written off later (any time up to the ledger's last fact);
- default: open amount of invoices whose default date (write-off or due + horizon) falls after the cutoff;
- slipped: amount still unpaid (payments and credit memos only) when the invoice entered a worse aging bucket within
  `SLIP_WINDOW_DAYS` after the cutoff; slipped_past_30: the same for moves from 1-30 into 31-60;
- late_cash: cash received within 13 weeks after the cutoff, later than due date + `LATE_GRACE_DAYS`;
- unpaid_4_weeks: open amount not paid or credited within 28 days.
Capture = share of an outcome's total carried by the top 10% of accounts (and by each collector's top N).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.ledger.ledger import Ledger, to_date
from serving.services.kpis import open_book
from serving.services.stake import AGING_ORDERS, StakeWeights, aging_scores, days_to_next_bucket, invoice_stake
from serving.services.worklist_order import WorklistPolicy

SLIP_WINDOW_DAYS = 28
LATE_GRACE_DAYS = 7
CASH_HORIZON_DAYS = 91
OUTCOMES = ("write_off", "default", "slipped", "slipped_past_30", "late_cash", "unpaid_4_weeks")
RANKINGS = ("worklist", "expected_loss", *AGING_ORDERS)
HINDSIGHT = "hindsight"
"""Not a ranking anyone can use: per outcome, the accounts ordered by that outcome itself, which is the most any
ranking could capture at a cut (the ceiling a "share of the gap closed" is measured against)."""
TOP_SHARE = 0.10


def invoice_outcomes(ledger: Ledger, cutoff: object) -> pd.DataFrame:
    """The invoices open at the end of `cutoff` (open_book) with what happened to each afterwards (see module doc)."""
    cutoff = to_date(cutoff)
    book = open_book(ledger, cutoff)
    rate = np.where(book["open_amount"] > 0, book["open_amount_base"] / book["open_amount"], 0.0)
    day = pd.Timedelta(days=1)
    reductions = pd.concat(
        [
            ledger.payments[["invoice_id", "payment_date", "amount"]].rename(columns={"payment_date": "date"}),
            ledger.adjustments.loc[ledger.adjustments["kind"] == "credit_memo", ["invoice_id", "date", "amount"]],
        ]
    )
    reductions = reductions[reductions["invoice_id"].isin(book["invoice_id"]) & (reductions["date"] > cutoff)]
    reductions = reductions.merge(book[["invoice_id", "due_date"]], on="invoice_id")
    # the day the invoice enters a worse bucket if still unpaid at its end: due date + bucket boundary + 1
    next_bucket_dpd = book["days_past_due"] + days_to_next_bucket(book["days_past_due"])
    crossing = book["due_date"] + pd.to_timedelta(next_bucket_dpd, "D")
    crossing_of = pd.Series(crossing.to_numpy(), index=book["invoice_id"].to_numpy())
    reductions["crossing"] = crossing_of.reindex(reductions["invoice_id"]).to_numpy()

    def reduced(mask: pd.Series) -> pd.Series:
        sums = reductions[mask].groupby("invoice_id")["amount"].sum()
        return sums.reindex(book["invoice_id"], fill_value=0.0).set_axis(book.index)

    open_at = book["open_amount"]
    unpaid_at_crossing = (open_at - reduced(reductions["date"] <= reductions["crossing"])).clip(lower=0.0)
    in_window = crossing <= cutoff + SLIP_WINDOW_DAYS * day
    out = book[["invoice_id", "customer_id", "due_date", "days_past_due", "open_amount_base"]].copy()
    out["slipped"] = np.where(in_window & (book["days_past_due"] <= 90), unpaid_at_crossing * rate, 0.0)
    out["slipped_past_30"] = np.where(book["days_past_due"].between(1, 30), out["slipped"], 0.0)
    four_weeks = reductions["date"] <= cutoff + SLIP_WINDOW_DAYS * day
    out["unpaid_4_weeks"] = (open_at - reduced(four_weeks)).clip(lower=0.0) * rate
    out["late_cash"] = _late_payments(ledger, book, cutoff) * rate
    write_offs = ledger.adjustments[
        (ledger.adjustments["kind"] == "write_off")
        & (ledger.adjustments["date"] > cutoff)
        & ledger.adjustments["invoice_id"].isin(book["invoice_id"])
    ]
    written = write_offs.groupby("invoice_id")["amount"].sum().reindex(book["invoice_id"], fill_value=0.0)
    out["write_off"] = np.minimum(written.to_numpy(), open_at.to_numpy()) * rate
    status = ledger.settlement.set_index("invoice_id").reindex(book["invoice_id"])
    defaulted = (status["default_date"] > cutoff) & (status["default_date"] <= ledger.known_until)
    out["default"] = np.where(defaulted.to_numpy(), book["open_amount_base"].to_numpy(), 0.0)
    return out.reset_index(drop=True)


def _late_payments(ledger: Ledger, book: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
    """Per book row, payments dated in (cutoff, cutoff + 13 weeks] and after due date + LATE_GRACE_DAYS (invoice
    currency)."""
    payments = ledger.payments.merge(book[["invoice_id", "due_date"]], on="invoice_id")
    late = payments[
        (payments["payment_date"] > cutoff)
        & (payments["payment_date"] <= cutoff + pd.Timedelta(days=CASH_HORIZON_DAYS))
        & (payments["payment_date"] > payments["due_date"] + pd.Timedelta(days=LATE_GRACE_DAYS))
    ]
    return late.groupby("invoice_id")["amount"].sum().reindex(book["invoice_id"], fill_value=0.0).to_numpy()


def account_rankings(scores: pd.DataFrame, outcomes: pd.DataFrame, weights: StakeWeights) -> pd.DataFrame:
    """Per customer with open invoices at the cutoff, one score per ranking in RANKINGS (higher = worked first):
    the worklist's at-stake amount, expected loss alone, and the aging orders. `scores`: a bundle's scores as of the
    cutoff; `outcomes`: invoice_outcomes at the same cutoff (its open amounts are the book's)."""
    book = outcomes[["invoice_id", "customer_id", "open_amount_base", "days_past_due"]].merge(
        scores.drop(columns=["customer_id", "days_past_due"]).rename(columns={"open_amount_base": "scored_base"}),
        on="invoice_id",
        how="left",
    )
    ratio = np.where(book["scored_base"] > 0, book["open_amount_base"] / book["scored_base"], 1.0)
    book["expected_loss"] = (book["expected_loss"] * ratio).fillna(0.0)
    book["at_stake"] = invoice_stake(book, weights)["at_stake"].to_numpy()
    grouped = book.groupby("customer_id")
    out = pd.DataFrame({"worklist": grouped["at_stake"].sum(), "expected_loss": grouped["expected_loss"].sum()})
    return out.join(aging_scores(book))[list(RANKINGS)]


def capture(score: pd.Series, outcome: pd.Series, chosen: pd.Index) -> float:
    """Share of `outcome` (per account) carried by the accounts in `chosen`; NaN when nothing happened."""
    total = float(outcome.sum())
    return float(outcome.reindex(chosen, fill_value=0.0).sum()) / total if total > 0 else float("nan")


def top_accounts(score: pd.Series, count: int) -> pd.Index:
    """The `count` highest-scored accounts (ties by customer id, so the choice is reproducible)."""
    order = pd.DataFrame({"score": score.to_numpy(), "customer_id": score.index}).sort_values(
        ["score", "customer_id"], ascending=[False, True], kind="stable"
    )
    return pd.Index(order["customer_id"].head(count))


def capacity_accounts(score: pd.Series, collectors: pd.Series, capacity: Mapping[str, int], default: int) -> pd.Index:
    """Each collector's top accounts at their daily capacity (`capacity` per collector id, else `default`)."""
    chosen = []
    frame = pd.DataFrame({"score": score, "collector": collectors.reindex(score.index).fillna("")})
    for collector, rows in frame.groupby("collector"):
        chosen.extend(top_accounts(rows["score"], int(capacity.get(str(collector), default))))
    return pd.Index(chosen)


def capture_table(
    rankings: pd.DataFrame,
    outcomes: pd.DataFrame,
    collectors: pd.Series,
    capacity: Mapping[str, int],
    default_capacity: int,
) -> pd.DataFrame:
    """Long table: ranking, cut (top_10pct | capacity), outcome, capture (share 0-1), accounts chosen. Besides
    RANKINGS, a HINDSIGHT row per cut and outcome: the capture of the accounts ranked by that outcome itself."""
    per_account = outcomes.groupby("customer_id")[list(OUTCOMES)].sum().reindex(rankings.index, fill_value=0.0)

    def cuts(score: pd.Series) -> dict[str, pd.Index]:
        return {
            "top_10pct": top_accounts(score, int(np.ceil(TOP_SHARE * len(score)))),
            "capacity": capacity_accounts(score, collectors, capacity, default_capacity),
        }

    def record(ranking: str, cut: str, outcome: str, chosen: pd.Index) -> dict:
        captured = capture(per_account[outcome], per_account[outcome], chosen)
        return {"ranking": ranking, "cut": cut, "outcome": outcome, "capture": captured, "accounts": len(chosen)}

    records: list[dict] = []
    for ranking in RANKINGS:
        for cut, chosen in cuts(rankings[ranking]).items():
            records.extend(record(ranking, cut, outcome, chosen) for outcome in OUTCOMES)
    for outcome in OUTCOMES:
        for cut, chosen in cuts(per_account[outcome]).items():
            records.append(record(HINDSIGHT, cut, outcome, chosen))
    return pd.DataFrame(records)


def evaluate_worklist_cutoff(
    ledger: Ledger,
    scores: pd.DataFrame,
    cutoff: object,
    weights: StakeWeights,
    capacity: Mapping[str, int] | None = None,
    default_capacity: int = 25,
) -> pd.DataFrame:
    """capture_table for the worklist built from `scores` (a bundle trained and scored at `cutoff`), with a cutoff
    column."""
    outcomes = invoice_outcomes(ledger, cutoff)
    rankings = account_rankings(scores, outcomes, weights)
    collectors = ledger.customers.set_index("customer_id")["collector_id"].astype("str")
    table = capture_table(rankings, outcomes, collectors, capacity or {}, default_capacity)
    return table.assign(cutoff=to_date(cutoff).date().isoformat(), accounts_ranked=len(rankings))


def worklist_summary(table: pd.DataFrame, cut: str = "top_10pct") -> pd.DataFrame:
    """Rankings (rows) x outcomes (columns): capture at `cut`, mean over cutoffs."""
    chosen = table[table["cut"] == cut]
    summary = chosen.pivot_table(index="ranking", columns="outcome", values="capture", aggfunc="mean")
    order = [r for r in (*RANKINGS, HINDSIGHT) if r in summary.index]
    return summary.reindex(index=order, columns=list(OUTCOMES))


def worklist_backtest(ledger: Ledger, trained: list[tuple[object, object]], policy: WorklistPolicy) -> pd.DataFrame:
    """evaluate_worklist_cutoff at each (cutoff, bundle trained at that cutoff), e.g. training.backtest's
    CutoffResult.cutoff and .bundle; the worklist ranked with `policy` (stake weights, collector capacities)."""
    tables = []
    for cutoff, bundle in trained:
        scores = bundle.score(ledger, cutoff, with_reasons=False)  # type: ignore[attr-defined]
        tables.append(
            evaluate_worklist_cutoff(ledger, scores, cutoff, policy.weights, policy.capacities, policy.default_capacity)
        )
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
