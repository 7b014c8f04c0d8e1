"""Pay dates on business days and p_late, measured on a simulated ledger (issue 9, item 4).

Simulates a ledger, trains a bundle as of a cutoff (only what was known then), scores the invoices open at the
cutoff and compares with what happened: the share of point pay dates (and P10/P50/P90) on weekends and on
non-business days of the customer's country, the MAE in days of the point pay date for invoices settled within the
13 weeks, and the ROC AUC of "settled after the due date" for invoices not yet due at the cutoff whose outcome is
known, of p_late against the customer's as-of mean days late (and against a p_late read off the weekly distribution
spread evenly over calendar days, what the weekly model alone could say). Runs on any checkout: before the daily
spread the point pay date was `expected_pay_date`.

    PYTHONPATH=$PWD python benchmarks/bench_days.py --customers 400 --months 24 --seed 11 --cutoff-days 150
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.calendar import BusinessCalendar
from features.days import to_days
from features.labels import HORIZON_WEEKS
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate
from training.contract import WEEK_COLUMNS
from training.train import TrainConfig, fit_bundle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cutoff-days", type=int, nargs="+", default=[150], help="days before the end of the data")
    args = parser.parse_args()
    ledger = Ledger.from_tables(simulate(customers=args.customers, months=args.months, seed=args.seed))
    for days_before in args.cutoff_days:
        measure(ledger, ledger.known_until - pd.Timedelta(days=days_before))


def measure(ledger: Ledger, cutoff: pd.Timestamp) -> None:
    started = time.perf_counter()
    bundle = fit_bundle(ledger, cutoff, TrainConfig(num_threads=1))
    scores = bundle.score(ledger, cutoff, with_reasons=False)
    rows = bundle.feature_rows(ledger, cutoff) if hasattr(bundle, "feature_rows") else None
    if rows is None:
        from features.build import build_features

        rows = build_features(ledger.as_of(cutoff), cutoff)
    seconds = time.perf_counter() - started
    point = "pay_date_median_within_horizon" if "pay_date_median_within_horizon" in scores else "expected_pay_date"
    status = ledger.settlement.set_index("invoice_id").reindex(scores["invoice_id"])
    country = ledger.customers.set_index("customer_id")["country"].reindex(scores["customer_id"]).fillna("")
    t = to_days(scores["as_of"])
    settle = to_days(status["settle_date"])
    due = to_days(status["due_date"])
    known = int(to_days(pd.Series([ledger.known_until]))[0])
    print(
        f"\ncutoff {cutoff.date()}: {len(scores)} open invoices, trained and scored in {seconds:.0f} s, "
        f"point pay date column {point}"
    )
    spread = bundle.meta.get("day_spread")
    if spread:
        print(f"  day spread fit: {spread}")
    days_all = np.r_[t, t + 7 * HORIZON_WEEKS + 7]
    calendar = BusinessCalendar.covering(pd.unique(country.astype("str")), days_all)
    code = calendar.codes(country.astype("str").to_numpy())
    for column in (point, "pay_date_p10", "pay_date_p50", "pay_date_p90"):
        present = scores[column].notna().to_numpy()
        d = to_days(scores[column])[present]
        weekend = ((d + 3) % 7 >= 5).mean()
        closed = (~calendar.is_business_day(code[present], d)).mean()
        print(f"  {column:32s} on a weekend {weekend:6.1%}   on a non-business day {closed:6.1%}   (n={present.sum()})")
    settled = (settle > t) & (settle - t <= 7 * HORIZON_WEEKS)
    present = scores[point].notna().to_numpy() & settled
    error = np.abs(to_days(scores[point])[present] - settle[present])
    print(
        f"  MAE of {point} for invoices settled within 13 weeks: {error.mean():.2f} days "
        f"(median {np.median(error):.0f}, n={present.sum()})"
    )
    for q in ("pay_date_p50",):
        p = scores[q].notna().to_numpy() & settled
        print(f"  MAE of {q} (where given): {np.abs(to_days(scores[q])[p] - settle[p]).mean():.2f} days (n={p.sum()})")

    # lateness of invoices not yet due at the cutoff whose outcome is known by the end of the data
    not_due = due > t
    late_known = (settle <= known) | (known > due)
    judged = not_due & late_known
    late = (settle > due)[judged]
    proba = scores[[*WEEK_COLUMNS, "p_pay_later"]].to_numpy()
    offsets = np.arange(1, 7 * HORIZON_WEEKS + 1)
    on_time = (t[:, None] + offsets[None, :]) <= due[:, None]
    uniform = 1.0 - (np.repeat(proba[:, :HORIZON_WEEKS] / 7, 7, axis=1) * on_time).sum(axis=1)
    history = rows.set_index("invoice_id")["hist_days_late_mean"].reindex(scores["invoice_id"]).to_numpy()
    history = np.where(np.isnan(history), np.nanmean(history), history)
    print(f"  late (settled after due) among {judged.sum()} invoices not yet due at the cutoff: {late.mean():.1%}")
    candidates = {"customer's as-of mean days late": history, "weekly distribution, even over calendar days": uniform}
    if "p_late" in scores:
        candidates["p_late (daily spread)"] = scores["p_late"].to_numpy()
    for name, score in candidates.items():
        print(f"  late ROC AUC of {name:45s} {roc_auc_score(late, score[judged]):.4f}")
    weekend_due = ((due + 3) % 7 >= 5)[judged]
    for label, mask in (("due on a weekend", weekend_due), ("due on a weekday", ~weekend_due)):
        even = uniform[judged][mask].mean()
        line = f"  {label}: late {late[mask].mean():.1%} (n={mask.sum()}); mean weekly-even p_late {even:.1%}"
        if "p_late" in scores:
            line += f"; mean p_late {scores['p_late'].to_numpy()[judged][mask].mean():.1%}"
        print(line)
    if "p_late_30" in scores:
        late30 = (settle > due + 30)[judged & ((settle <= known) | (known > due + 30))]
        sel = judged & ((settle <= known) | (known > due + 30))
        print(
            f"  late > 30 days: {late30.mean():.1%} (n={sel.sum()}); ROC AUC of p_late_30 "
            f"{roc_auc_score(late30, scores['p_late_30'].to_numpy()[sel]):.4f}, mean p_late_30 "
            f"{scores['p_late_30'].to_numpy()[sel].mean():.1%}"
        )


if __name__ == "__main__":
    main()
