"""Benchmark on a real-shaped AR export: import it through a mapping, train as of a cutoff, score every later invoice
at its issue date, and print the pay-date MAE and the late AUC of several predictors.

    .venv/bin/python benchmarks/bench_export.py --export <dir or CSV> [--mapping examples/mappings/ibm_ar.toml]
        [--cutoff 2013-01-01] [--threads 1]

The export is the public IBM Watson Analytics sample "WA_Fn-UseC_-Accounts-Receivable.csv" (Finance Factoring /
late payment histories; 2,466 invoices of 100 customers, Net 30), e.g. from the Kaggle data set
hhenry/finance-factoring-ibm-late-payment-histories or the copy in github.com/pedroteles/predictive-cashflow-b2b
(data/). It is not shipped with payrisk. Any export the mapping fits works.

Predictors, all scored at each test invoice's issue date T from facts known at T (models trained on facts known at
the cutoff; every test invoice was issued after it):
- customer as-of mean: due date + the customer's mean days late over its invoices settled by T (global mean of the
  training period for a customer without any);
- payrisk: `fit_bundle` as of the cutoff, `pay_date_median_within_horizon` and `p_late` (P(settled after the due
  date), read off the daily distribution); with the mapping as given (disputes dated on the due date: the safe
  default), with `[disputes] opened = "invoice_date"` (dispute known at issue), each with and without the
  mapping's extra features;
- LightGBM regression reference: days to settle from the invoice fields (amount, extras, the dispute flag known at
  issue) and the customer's as-of history (settled by T), trained on the invoices issued and settled before the cutoff.

MAE: mean |predicted - actual settle date| in days (for the dispute-at-issue variants also split into disputed and
other invoices, with the bias: mean predicted - actual). Late AUC: ROC AUC of the score against "settled after the due
date" (P(late) for payrisk, predicted days late for the others).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.build import build_features
from features.importer.pipeline import import_exports
from features.ledger.extras import MANIFEST
from features.ledger.ledger import Ledger
from training.train import TrainConfig, fit_bundle

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MAPPING = ROOT / "examples" / "mappings" / "ibm_ar.toml"


def import_variant(mapping: Path, export: Path, out: Path, at_issue: bool, extras: bool) -> Ledger:
    """Import with the mapping, optionally with disputes opened at the invoice date and without the extras."""
    text = mapping.read_text(encoding="utf-8")
    if at_issue:
        text, n = re.subn(r'(?m)^opened\s*=\s*"due_date"', 'opened = "invoice_date"', text)
        if n == 0 and 'opened = "invoice_date"' not in text:
            text += '\n[disputes]\nopened = "invoice_date"\n'
    variant = out / "mapping.toml"
    out.mkdir(parents=True, exist_ok=True)
    variant.write_text(text, encoding="utf-8")
    ledger_dir = out / "ledger"
    import_exports(variant, [export], ledger_dir)
    if not extras:
        (ledger_dir / MANIFEST).unlink(missing_ok=True)
    ledger = Ledger.load(ledger_dir)
    if not extras:
        assert not ledger.extras
    return ledger


def test_rows(ledger: Ledger, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Feature rows of every invoice issued after the cutoff, at its issue date, with its actual settle date."""
    status = ledger.settlement
    later = status[(status["invoice_date"] > cutoff) & status["settle_date"].notna()]
    dates = sorted(pd.unique(later["invoice_date"]))
    rows = build_features(ledger, dates)  # the rows for T equal those of ledger.as_of(T) (tests/features/test_leakage)
    issued = status.set_index("invoice_id")["invoice_date"]
    rows = rows[rows["invoice_id"].map(issued).to_numpy() == rows["as_of"].to_numpy()].reset_index(drop=True)
    settle = status.set_index("invoice_id")["settle_date"]
    rows["actual"] = rows["invoice_id"].map(settle).to_numpy()
    return rows[rows["actual"].notna()].reset_index(drop=True)


def metrics(actual: pd.Series, predicted: pd.Series, due: pd.Series, score: np.ndarray) -> tuple[float, float]:
    error = (pd.to_datetime(predicted) - pd.to_datetime(actual)).dt.days.abs()
    late = (pd.to_datetime(actual) > pd.to_datetime(due)).to_numpy()
    return float(error.mean()), float(roc_auc_score(late, score))


def history_frame(ledger: Ledger) -> pd.DataFrame:
    """One row per invoice: issue, due and settle dates, amount, days late/to settle, the dispute flag and extras."""
    status = ledger.settlement.reset_index(drop=True)
    frame = status[["invoice_id", "customer_id", "invoice_date", "due_date", "settle_date", "amount"]].copy()
    frame["days_late"] = (frame["settle_date"] - frame["due_date"]).dt.days
    frame["days_to_settle"] = (frame["settle_date"] - frame["invoice_date"]).dt.days
    frame["disputed"] = frame["invoice_id"].isin(set(ledger.disputes["invoice_id"])).astype(float)
    invoices = ledger.invoices.reset_index(drop=True)
    customers = ledger.customers.set_index("customer_id")
    for e in ledger.extras:
        source = invoices[e.column] if e.table == "invoices" else frame["customer_id"].map(customers[e.column])
        frame[e.column] = source.to_numpy()
    return frame


def as_of_history(frame: pd.DataFrame, at: pd.Series, customer: pd.Series) -> pd.DataFrame:
    """Per (customer, T): mean / last days late and count of the invoices settled by T, and its dispute share."""
    out = []
    settled = frame[frame["settle_date"].notna()]
    by_customer = {c: g.sort_values("settle_date") for c, g in settled.groupby("customer_id")}
    issued = {c: g for c, g in frame.groupby("customer_id")}
    for c, t in zip(customer, at, strict=True):
        g = by_customer.get(c)
        past = g[g["settle_date"] <= t] if g is not None else settled.iloc[:0]
        mine = issued[c]
        mine = mine[mine["invoice_date"] < t]
        out.append(
            {
                "h_count": len(past),
                "h_mean_late": past["days_late"].mean() if len(past) else np.nan,
                "h_mean_settle": past["days_to_settle"].mean() if len(past) else np.nan,
                "h_last_late": past["days_late"].iloc[-1] if len(past) else np.nan,
                "h_last5_late": past["days_late"].iloc[-5:].mean() if len(past) else np.nan,
                "h_share_late": (past["days_late"] > 0).mean() if len(past) else np.nan,
                "h_dispute_share": mine["disputed"].mean() if len(mine) else np.nan,
            }
        )
    return pd.DataFrame(out)


def regression_reference(
    ledger: Ledger, cutoff: pd.Timestamp, test: pd.DataFrame, threads: int, dispute: bool = True
) -> np.ndarray:
    """Plain LightGBM regression of days to settle; predicted settle dates of the test invoices. `dispute`: the
    invoice's dispute flag is a feature (known at issue); without it, only the customer's past dispute share."""
    frame = history_frame(ledger)
    if not dispute:
        frame["disputed"] = np.nan  # unknown at issue; h_dispute_share (past invoices) stays
    train = frame[(frame["invoice_date"] <= cutoff) & (frame["settle_date"] <= cutoff)].reset_index(drop=True)
    later = frame.set_index("invoice_id").loc[test["invoice_id"]].reset_index()
    extras = [e.column for e in ledger.extras]
    categorical = [e.column for e in ledger.extras if e.kind == "categorical"]

    def design(part: pd.DataFrame) -> pd.DataFrame:
        x = pd.concat(
            [
                part[["amount", "disputed", *extras]].reset_index(drop=True),
                as_of_history(frame, part["invoice_date"], part["customer_id"]),
            ],
            axis=1,
        )
        x["month"] = part["invoice_date"].dt.month.to_numpy()
        x["weekday"] = part["invoice_date"].dt.day_of_week.to_numpy()
        for c in categorical:
            x[c] = pd.Categorical(x[c].astype("str"), categories=sorted(pd.unique(train[c].astype("str"))))
        return x

    params = {"objective": "regression_l1", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20}
    params.update({"verbosity": -1, "num_threads": threads, "seed": 7, "deterministic": True})
    booster = lgb.train(params, lgb.Dataset(design(train), train["days_to_settle"]), num_boost_round=300)
    days = booster.predict(design(later), num_threads=threads)
    return np.asarray(later["invoice_date"] + pd.to_timedelta(np.round(days), unit="D"))


def customer_mean(ledger: Ledger, cutoff: pd.Timestamp, test: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """Due date + the customer's as-of mean days late (the training period's mean for a customer without any)."""
    frame = history_frame(ledger)
    known = frame[frame["settle_date"] <= cutoff]
    fallback = known["days_late"].mean()
    history = as_of_history(frame, test["as_of"], test["customer_id"])
    days_late = history["h_mean_late"].fillna(fallback).to_numpy()
    due = pd.to_datetime(test["due_date"]).reset_index(drop=True)
    return due + pd.to_timedelta(np.round(days_late), unit="D"), days_late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--export", type=Path, required=True, help="the export file or a directory holding it")
    parser.add_argument("--mapping", type=Path, default=DEFAULT_MAPPING)
    parser.add_argument("--cutoff", default="2013-01-01", help="train on what was known at the end of this day")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    cutoff = pd.Timestamp(args.cutoff)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        base = import_variant(args.mapping, args.export, Path(tmp) / "base", at_issue=False, extras=True)
        test = test_rows(base, cutoff)
        print(
            f"export {args.export.name}: {len(base.invoices):,} invoices, {len(base.customers)} customers, "
            f"extras {[e.name for e in base.extras]}; cutoff {cutoff.date()}: {len(test):,} later invoices scored "
            f"at their issue date ({(test['actual'] > test['due_date']).mean():.0%} paid late)"
        )
        predicted, days_late = customer_mean(base, cutoff, test)
        results.append(
            ("customer as-of mean days late", *metrics(test["actual"], predicted, test["due_date"], days_late))
        )
        config = TrainConfig(num_threads=args.threads)
        for at_issue in (False, True):
            for extras in (False, True):
                name = f"{'at-issue' if at_issue else 'safe'}-{'extras' if extras else 'plain'}"
                ledger = import_variant(args.mapping, args.export, Path(tmp) / name, at_issue, extras)
                started = time.perf_counter()
                bundle = fit_bundle(ledger, cutoff, config)
                rows = test_rows(ledger, cutoff)
                scores = bundle.score_rows(rows, with_reasons=False)
                late = scores["p_late"].to_numpy()  # off the daily distribution (training/days.py)
                label = (
                    f"payrisk, dispute {'known at issue' if at_issue else 'from due date (safe)'}"
                    f"{' + extras' if extras else ''}"
                )
                mae, auc = metrics(rows["actual"], scores["pay_date_median_within_horizon"], rows["due_date"], late)
                results.append((label, mae, auc))
                mae, auc = metrics(rows["actual"], scores["pay_date_p50"], rows["due_date"], late)
                results.append((f"{label}, median pay date", mae, auc))
                if at_issue:  # the dispute is a feature at issue: where the point date misses, disputed or not
                    error = (
                        pd.to_datetime(scores["pay_date_median_within_horizon"]) - pd.to_datetime(rows["actual"])
                    ).dt.days.to_numpy()
                    disputed = rows["dispute_open"].to_numpy() > 0
                    for name, part in (("disputed", disputed), ("not disputed", ~disputed)):
                        print(
                            f"  {label}, {name} ({part.sum()} invoices): point-date MAE "
                            f"{np.abs(error[part]).mean():.2f} days, bias {error[part].mean():+.2f} days"
                        )
                print(f"  {label}: trained and scored in {time.perf_counter() - started:.1f} s")
        reference = import_variant(args.mapping, args.export, Path(tmp) / "reference", at_issue=True, extras=True)
        for dispute in (False, True):
            predicted = regression_reference(reference, cutoff, test, args.threads, dispute)
            late_days = (pd.to_datetime(predicted) - pd.to_datetime(test["due_date"])).dt.days.to_numpy()
            label = f"LightGBM regression reference ({'dispute at issue' if dispute else 'no dispute flag'} + extras)"
            results.append((label, *metrics(test["actual"], pd.Series(predicted), test["due_date"], late_days)))
    print(f"\n{'predictor':<62} {'MAE days':>9} {'late AUC':>9}")
    for label, mae, auc in results:
        print(f"{label:<62} {mae:>9.2f} {auc:>9.3f}")


if __name__ == "__main__":
    main()
