"""`ScoringBundle.score`: the output contract of `payrisk score`, its internal consistency, and the as-of rule."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.calendar import BusinessCalendar
from features.days import to_days
from features.labels import HORIZON_WEEKS
from features.ledger.ledger import Ledger
from features.simulator.simulate import write_ledger
from payrisk.cli import app
from tests.support.trained import cut_tables
from training.bundle import SCORE_COLUMNS, WEEK_COLUMNS
from training.explain import NOT_A_REASON, _phrase_for

DATE_COLUMNS = ["as_of", "pay_date_median_within_horizon", "pay_date_p10", "pay_date_p50", "pay_date_p90"]
TEXT_COLUMNS = ["invoice_id", "customer_id", "currency", "reasons"]
QUANTILES = {"pay_date_p10": 0.1, "pay_date_p50": 0.5, "pay_date_p90": 0.9}


def _proba(scores: pd.DataFrame) -> np.ndarray:
    return scores[[*WEEK_COLUMNS, "p_pay_later"]].to_numpy()


def _days_after(scores: pd.DataFrame, column: str) -> pd.Series:
    return (scores[column] - scores["as_of"]).dt.days


# ----------------------------------------------------------------------------------------------- the contract
def test_columns_and_one_row_per_open_invoice(trained, scores):
    assert list(scores.columns) == SCORE_COLUMNS
    open_invoices = trained.ledger.open_amounts(trained.as_of)
    assert len(scores) == len(open_invoices) > 100
    assert scores["invoice_id"].is_unique
    assert set(scores["invoice_id"]) == set(open_invoices["invoice_id"])
    assert (scores["as_of"] == trained.as_of).all()
    merged = scores.merge(open_invoices, on="invoice_id", suffixes=("", "_ledger"), validate="one_to_one")
    assert (merged["customer_id"] == merged["customer_id_ledger"]).all()
    assert (merged["currency"] == merged["currency_ledger"]).all()
    cents = (merged["open_amount"] * 100).round().astype(np.int64)
    assert (cents == (merged["open_amount_ledger"] * 100).round().astype(np.int64)).all()
    assert (merged["open_amount"] > 0).all()
    # base amounts: the open amount at the fx rate as of T, to the cent
    rate = trained.ledger.fx_rate(merged["currency"], pd.Series([trained.as_of] * len(merged)))
    np.testing.assert_allclose(
        merged["open_amount_base"], (merged["open_amount"] * rate).round(2), rtol=0, atol=0.005 + 1e-9
    )
    due = trained.ledger.invoices.set_index("invoice_id")["due_date"].reindex(scores["invoice_id"])
    expected_dpd = np.clip((trained.as_of - due).dt.days.to_numpy(), 0, None)
    np.testing.assert_array_equal(scores["days_past_due"].to_numpy(), expected_dpd)


def test_weekly_probabilities_are_a_distribution(scores):
    proba = _proba(scores)
    assert proba.shape[1] == HORIZON_WEEKS + 1
    assert (proba >= 0).all() and (scores["p_default"].between(0, 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scores["expected_loss"], scores["open_amount_base"] * scores["p_default"], rtol=1e-12)


def test_pay_dates_agree_with_the_distribution(scores):
    cdf = np.cumsum(_proba(scores)[:, :HORIZON_WEEKS], axis=1)
    for column, q in QUANTILES.items():
        days = _days_after(scores, column)
        present = days.notna().to_numpy()
        # NaT exactly when the 13-week CDF never reaches q (rows within float noise of q are not judged)
        clear = np.abs(cdf[:, -1] - q) > 1e-9
        np.testing.assert_array_equal(present[clear], cdf[clear, -1] >= q)
        week = np.ceil(days[present].to_numpy() / 7).astype(int)  # 1..13
        assert ((week >= 1) & (week <= HORIZON_WEEKS)).all()
        rows = np.flatnonzero(present)
        assert (cdf[rows, week - 1] >= q - 1e-9).all(), f"{column}: its week does not reach {q}"
        earlier = week > 1
        assert (cdf[rows[earlier], week[earlier] - 2] < q).all(), f"{column}: the week before already reaches {q}"
    p10, p50, p90 = (scores[c] for c in QUANTILES)
    both = p10.notna() & p50.notna()
    assert (p10[both] <= p50[both]).all()
    both = p50.notna() & p90.notna()
    assert (p50[both] <= p90[both]).all()
    assert (p10.notna() | p50.isna()).all() and (p50.notna() | p90.isna()).all()
    assert p90.isna().any() and p90.notna().any()  # both cases occur in the fixture

    expected = _days_after(scores, "pay_date_median_within_horizon")
    within = cdf[:, -1] > 0
    assert expected[within].notna().all() and expected[~within].isna().all()
    assert expected[within].between(1, 7 * HORIZON_WEEKS).all()


def _on_business_days(trained, scores: pd.DataFrame, column: str, closing_days=()) -> np.ndarray:
    country = trained.ledger.customers.set_index("customer_id")["country"].reindex(scores["customer_id"]).fillna("")
    present = scores[column].notna().to_numpy()
    days = to_days(scores[column])[present]
    calendar = BusinessCalendar.covering(pd.unique(country), days, closing_days)
    return calendar.is_business_day(calendar.codes(country.to_numpy())[present], days)


def test_pay_dates_fall_on_business_days_of_the_customer_country(trained, scores):
    for column in ("pay_date_median_within_horizon", "pay_date_p10", "pay_date_p50", "pay_date_p90"):
        business = _on_business_days(trained, scores, column)
        assert len(business) > 100 and business.all(), column
        assert (scores[column].dropna().dt.day_of_week < 5).all(), column


def test_p_late_reads_the_due_date_off_the_daily_distribution(trained, scores):
    p_late, p_late_30 = scores["p_late"], scores["p_late_30"]
    assert p_late.between(0, 1).all() and p_late_30.between(0, 1).all()
    assert (p_late_30 <= p_late + 1e-12).all()
    past_due = scores["days_past_due"] > 0
    assert past_due.any() and (p_late[past_due] == 1.0).all()  # open after its due date: late whatever happens
    assert (p_late_30 >= scores["p_pay_later"] - 1e-12).all()  # mass after the horizon counts as late
    # not yet due: on time at most the mass of the weeks that start by the due date
    due = trained.ledger.invoices.set_index("invoice_id")["due_date"].reindex(scores["invoice_id"]).to_numpy()
    days_to_due = (due - scores["as_of"].to_numpy()) // np.timedelta64(1, "D")
    cdf = np.cumsum(_proba(scores)[:, :HORIZON_WEEKS], axis=1)
    ahead = (days_to_due >= 1) & (days_to_due <= 7 * HORIZON_WEEKS)
    weeks_started = np.ceil(days_to_due[ahead] / 7).astype(int)
    rows = np.flatnonzero(ahead)
    assert len(rows) > 50
    assert (1 - p_late.to_numpy()[rows] <= cdf[rows, weeks_started - 1] + 1e-9).all()
    assert (1 - p_late.to_numpy()[rows] >= np.where(weeks_started > 1, cdf[rows, weeks_started - 2], 0) - 1e-9).all()


def test_the_day_spread_is_learned_from_the_training_settlements(trained):
    fit = trained.bundle.meta["day_spread"]
    assert fit["fitted"] and fit["events"] > 1000
    assert fit["mean_log_likelihood"] > fit["uniform_log_likelihood"] + 0.1  # better than an even spread
    assert fit["non_business_due_moves_to"] in ("previous", "next")


def test_a_closing_day_takes_the_pay_dates_off_that_day(trained, scores):
    """The most frequent point pay date, made a company closing day: no date lands on it any more."""
    busiest = scores["pay_date_median_within_horizon"].value_counts().index[0]
    assert (scores["pay_date_median_within_horizon"] == busiest).sum() > 10
    bundle = copy.deepcopy(trained.bundle)  # the session's bundle stays as it is
    bundle.set_closing_days([busiest.date().isoformat()])
    assert bundle.closing_days == (busiest.date().isoformat(),) and bundle.timing.closing_days == bundle.closing_days
    closed = bundle.score(trained.ledger, trained.as_of)
    for column in ("pay_date_median_within_horizon", "pay_date_p10", "pay_date_p50", "pay_date_p90"):
        assert (closed[column] != busiest).all(), column
    np.testing.assert_allclose(_proba(closed).sum(axis=1), 1.0, atol=1e-9)


def test_priority_rank_orders_by_expected_loss(scores):
    n = len(scores)
    np.testing.assert_array_equal(np.sort(scores["priority_rank"].to_numpy()), np.arange(1, n + 1))
    ranked = scores.sort_values("priority_rank")
    assert (np.diff(ranked["expected_loss"].to_numpy()) <= 0).all()


def test_reasons_for_high_risk_rows(scores):
    assert scores["reasons"].map(lambda r: isinstance(r, str)).all()
    high = scores[scores["p_default"] >= 0.5]
    assert len(high) >= 10
    assert (high["reasons"].str.len() > 0).all()
    top = scores.nsmallest(20, "priority_rank")
    assert (top["reasons"].str.len() > 0).all()


def test_reasons_are_what_raised_the_risk_of_hand_picked_rows(trained, scores, feature_rows):
    """The riskiest invoices, the largest expected loss and an invoice in dispute: each reason is the phrase of a
    feature that raised that invoice's default risk (LightGBM's contributions), filled with the invoice's own values,
    largest contribution first; features that lowered it or mean nothing to a collector are never reasons."""
    by_invoice = scores.set_index("invoice_id")
    picked = [*scores.nlargest(3, "p_default")["invoice_id"], scores.nlargest(1, "expected_loss")["invoice_id"].iloc[0]]
    picked.append(feature_rows.loc[feature_rows["dispute_open"] > 0, "invoice_id"].iloc[0])
    rows = feature_rows.set_index("invoice_id").loc[picked].reset_index()
    contributions = trained.bundle.default.contributions(rows)
    names = trained.bundle.default.feature_names_
    for i, invoice in enumerate(picked):
        text = by_invoice.loc[invoice, "reasons"]
        phrases = text.split("; ")
        assert text and len(phrases) <= 3 and "_" not in text, (invoice, text)
        raised: dict[str, float] = {}  # phrase -> the largest contribution of a feature that reads as it
        for j in np.argsort(-contributions[i]):
            if contributions[i, j] <= 0:
                break
            if names[j] in NOT_A_REASON:
                continue
            columns, phrase = _phrase_for(names[j])
            values = [rows.loc[i, c] for c in columns]
            if not any(isinstance(v, float) and np.isnan(v) for v in values) and (said := phrase(*values)):
                raised.setdefault(said, contributions[i, j])
        assert set(phrases) <= set(raised), (invoice, phrases, sorted(raised, key=raised.get, reverse=True)[:5])
        strengths = [raised[p] for p in phrases]
        assert strengths == sorted(strengths, reverse=True), (invoice, phrases)


# ----------------------------------------------------------------------------------------------- the as-of rule
@pytest.mark.parametrize("days_back", [0, 28])
def test_full_and_cut_ledger_score_identically(trained, scores, days_back):
    as_of = trained.as_of - pd.Timedelta(days=days_back)
    full = scores if days_back == 0 else trained.bundle.score(trained.ledger, as_of)
    cut = trained.ledger.as_of(as_of)
    assert cut.known_until == as_of < trained.ledger.known_until
    pd.testing.assert_frame_equal(full, trained.bundle.score(cut, as_of), check_exact=True)


def test_cut_ledger_through_csv_scores_identically(trained, scores, tmp_path):
    cut = trained.ledger.as_of(trained.as_of)
    write_ledger(cut_tables(cut), tmp_path / "cut")
    loaded = Ledger.load(tmp_path / "cut")
    pd.testing.assert_frame_equal(scores, trained.bundle.score(loaded, trained.as_of), check_exact=True)


def _read_scores_csv(path) -> pd.DataFrame:
    frame = pd.read_csv(
        path, dtype={c: "str" for c in TEXT_COLUMNS}, keep_default_na=False, na_values={c: [""] for c in DATE_COLUMNS}
    )
    for column in DATE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").astype("datetime64[s]")
    return frame


def test_cli_score_output_round_trips(trained, scores, tmp_path, isolated):
    bundle_path = trained.bundle.save(tmp_path / "bundle.joblib")
    out = tmp_path / "out" / "scores.csv"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--ledger",
            str(trained.ledger_dir),
            "--as-of",
            str(trained.as_of.date()),
            "--out",
            str(out),
            "--model",
            str(bundle_path),
        ],
    )
    assert result.exit_code == 0, result.output
    read = _read_scores_csv(out)
    assert list(read.columns) == SCORE_COLUMNS
    assert len(read) == len(scores)
    for column in SCORE_COLUMNS:
        expected, got = scores[column], read[column]
        if column in DATE_COLUMNS:
            pd.testing.assert_series_equal(got, expected, check_names=False)
        elif column in TEXT_COLUMNS:
            assert got.tolist() == expected.tolist(), column
        else:  # numbers: written by pandas with full precision, read back exactly
            np.testing.assert_array_equal(
                got.to_numpy(dtype=np.float64), expected.to_numpy(dtype=np.float64), err_msg=column
            )


def test_a_date_with_no_open_invoice_gives_an_empty_table(trained):
    before = trained.ledger.invoices["invoice_date"].min() - pd.Timedelta(days=1)
    empty = trained.bundle.score(trained.ledger, before)
    assert list(empty.columns) == SCORE_COLUMNS and len(empty) == 0


def test_cash_correlations_are_the_estimated_ones_and_fixed_for_older_bundles(trained):
    from training.bundle import ScoringBundle
    from training.cashflow import CUSTOMER_CORRELATION, PORTFOLIO_CORRELATION, CashCorrelations

    stored = trained.bundle.meta["cash_correlations"]
    assert trained.bundle.cash_correlations == CashCorrelations(**stored)
    assert 0.0 <= stored["customer"] <= 0.9 and 0.0 <= stored["portfolio"] <= 0.5 and stored["method"]
    older = ScoringBundle(
        trained.bundle.preprocessor,
        trained.bundle.timing,
        trained.bundle.default,
        {k: v for k, v in trained.bundle.meta.items() if k != "cash_correlations"},
        trained.bundle.day_spread,
    )
    assert older.cash_correlations == CashCorrelations(CUSTOMER_CORRELATION, PORTFOLIO_CORRELATION, "fixed constants")
