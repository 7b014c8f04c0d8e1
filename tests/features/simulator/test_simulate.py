"""Tests of the ledger simulator: determinism, contract, validity, realism, and writing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.calendar import BusinessCalendar
from features.days import to_days
from features.ledger.contract import AMOUNT_TOLERANCE, DATE_DTYPE, TABLES
from features.ledger.validate import validate_dir
from features.simulator.calendar import HABITS
from features.simulator.customers import World
from features.simulator.simulate import simulate, simulate_with_truth, write_ledger
from features.simulator.stats import invoice_outcomes, realism_summary

START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-01-01")  # 12 months
EVENT_DATES = {  # dated columns that record something that happened (so never after the window end)
    "invoices": ["invoice_date"],
    "payments": ["payment_date"],
    "adjustments": ["date"],
    "disputes": ["opened_date", "resolved_date"],
    "promises": ["created_date"],
    "fx_rates": ["date"],
}


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return simulate(customers=60, months=12, seed=7)


@pytest.fixture(scope="module")
def medium() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    return simulate_with_truth(customers=600, months=24, seed=11)


@pytest.fixture(scope="module")
def medium_outcomes(medium) -> pd.DataFrame:
    tables, _ = medium
    return invoice_outcomes(tables, "2026-01-01")


def test_same_seed_same_tables_other_seed_other_tables(small):
    again = simulate(customers=60, months=12, seed=7)
    for name in TABLES:
        pd.testing.assert_frame_equal(small[name], again[name])
    other = simulate(customers=60, months=12, seed=8)
    assert not small["invoices"].equals(other["invoices"])
    assert not small["payments"].equals(other["payments"])


def test_same_seed_byte_identical_files(tmp_path, small):
    first = write_ledger(small, tmp_path / "a")
    second = write_ledger(simulate(customers=60, months=12, seed=7), tmp_path / "b")
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes(), name


def test_contract_columns_and_dtypes(small):
    assert set(small) == set(TABLES)
    for name, table in TABLES.items():
        frame = small[name]
        assert list(frame.columns) == [c.name for c in table.columns], name
        assert len(frame) > 0, name
        for column in table.columns:
            values = frame[column.name]
            if column.kind == "date":
                assert values.dtype == DATE_DTYPE, (name, column.name)
            elif column.kind == "amount":
                assert values.dtype == np.float64, (name, column.name)
            elif column.kind == "id":
                assert pd.api.types.is_string_dtype(values), (name, column.name)
    assert small["customers"]["customer_id"].str.fullmatch(r"CUST\d{6}").all()
    assert small["invoices"]["invoice_id"].str.fullmatch(r"INV\d{7}").all()
    assert small["payments"]["payment_id"].str.startswith("PAY").all()
    assert small["adjustments"]["adjustment_id"].str.startswith("ADJ").all()
    assert small["disputes"]["dispute_id"].str.startswith("DSP").all()
    assert small["promises"]["promise_id"].str.startswith("PTP").all()
    assert small["customers"]["collector_id"].nunique() >= 3
    assert set(small["adjustments"]["kind"]) <= {"credit_memo", "write_off"}


def test_keys_unique_and_references_exist(medium):
    tables, _ = medium
    for name, table in TABLES.items():
        if table.key:
            assert tables[name][table.key].is_unique, name
        for column, parent in table.parents.items():
            parent_ids = set(tables[parent][TABLES[parent].key])
            assert tables[name][column].isin(parent_ids).all(), (name, column)


def test_dates_within_window_and_ordered(medium):
    tables, _ = medium
    end = pd.Timestamp("2026-01-01")
    for name, columns in EVENT_DATES.items():
        for column in columns:
            values = tables[name][column].dropna()
            assert values.min() >= START and values.max() <= end, (name, column)
    inv = tables["invoices"].set_index("invoice_id")
    assert (inv["due_date"] >= inv["invoice_date"]).all()
    for name, column in [
        ("payments", "payment_date"),
        ("adjustments", "date"),
        ("disputes", "opened_date"),
        ("promises", "created_date"),
    ]:
        frame = tables[name]
        assert (frame[column] >= frame["invoice_id"].map(inv["invoice_date"])).all(), name
    disputes, promises = tables["disputes"], tables["promises"]
    resolved = disputes["resolved_date"].notna()
    assert (disputes.loc[resolved, "resolved_date"] >= disputes.loc[resolved, "opened_date"]).all()
    assert (~resolved).any(), "disputes opened near the end are still unresolved"
    assert (promises["promised_date"] >= promises["created_date"]).all()
    # a disputed invoice is paid only after its dispute is resolved
    paid = tables["payments"].merge(disputes, on="invoice_id")
    assert (paid["payment_date"] > paid["resolved_date"]).all()


def test_amounts_positive_cents_and_never_overpaid(medium):
    tables, _ = medium
    for name in ("invoices", "payments", "adjustments", "promises"):
        amount = tables[name]["amount"]
        assert (amount > 0).all(), name
        assert np.allclose(amount, amount.round(2), atol=1e-9, rtol=0), name
    inv = tables["invoices"].set_index("invoice_id")["amount"]
    adj = tables["adjustments"]
    paid = tables["payments"].groupby("invoice_id")["amount"].sum()
    credited = adj[adj["kind"] == "credit_memo"].groupby("invoice_id")["amount"].sum()
    written_off = adj[adj["kind"] == "write_off"].groupby("invoice_id")["amount"].sum()
    total = paid.add(credited, fill_value=0).add(written_off, fill_value=0)
    assert (total <= inv.reindex(total.index) + AMOUNT_TOLERANCE).all()
    # a write-off is exactly the remaining open amount
    remaining = (
        inv[written_off.index]
        - paid.reindex(written_off.index, fill_value=0)
        - credited.reindex(written_off.index, fill_value=0)
    )
    assert np.allclose(written_off, remaining, atol=AMOUNT_TOLERANCE, rtol=0)
    assert len(written_off) > 0
    # instalments: some invoices have several payments, and still sum to the amount to the cent
    counts = tables["payments"]["invoice_id"].value_counts()
    multi = counts[counts > 1].index
    assert len(multi) > 0
    settled = paid[multi] + credited.reindex(multi, fill_value=0)
    closes = np.isclose(settled, inv[multi], atol=AMOUNT_TOLERANCE, rtol=0)
    assert closes.mean() > 0.8  # the rest are still paying instalments at the window end


def test_fx_rates_weekly_from_start(medium):
    tables, _ = medium
    fx = tables["fx_rates"]
    used = set(tables["invoices"]["currency"]) - {"USD"}
    assert len(used) >= 3 and used <= set(fx["currency"])
    first = fx.groupby("currency")["date"].min()
    assert (first == START).all()
    later = fx.loc[fx["date"] > START, "date"]
    assert (later.dt.day_of_week == 0).all()
    assert (fx["rate_to_base"] > 0).all()
    assert "GB" in set(tables["customers"]["country"]) and tables["customers"]["currency"].mode()[0] == "USD"


def test_realistic_settlement_and_default_rates(medium, medium_outcomes):
    summary = realism_summary(medium_outcomes, medium[1])
    assert 0.45 <= summary["settled_late_share"] <= 0.72, summary
    assert 0.015 <= summary["default_rate_matured"] <= 0.08, summary
    assert 8 <= summary["mean_days_late"] <= 30, summary
    assert summary["p95_days_late"] > 2 * summary["mean_days_late"], "a long tail of late payments"
    late = [summary[f"mean_days_late[{a}]"] for a in ("prompt", "late", "very_late")]
    assert late[0] < 2 < late[1] < late[2], summary
    assert summary["default_rate[deteriorating]"] > 2 * summary["default_rate[prompt]"], summary
    # invoices issued near the end are still open
    recent = medium_outcomes["due_date"] > pd.Timestamp("2025-12-15")
    assert medium_outcomes.loc[recent, "settle_date"].isna().mean() > 0.7


def test_history_predicts_the_future(medium, medium_outcomes):
    _, truth = medium
    settled = medium_outcomes[medium_outcomes["settle_date"].notna()]
    mid = pd.Timestamp("2025-01-01")
    first = settled[settled["due_date"] < mid].groupby("customer_id")["days_late"].mean()
    second = settled[settled["due_date"] >= mid].groupby("customer_id")["days_late"].mean()
    both = pd.concat([first, second], axis=1, keys=["first", "second"]).dropna()
    assert both.corr(method="spearman").iloc[0, 1] > 0.5
    # deteriorating customers pay later in the second half than in the first
    deteriorating = truth.loc[truth["archetype"] == "deteriorating", "customer_id"]
    worse = both.loc[both.index.isin(deteriorating)]
    assert (worse["second"] - worse["first"]).mean() > 3


def test_weekly_payers_pay_on_their_run_weekday(medium):
    tables, truth = medium
    habit = tables["payments"]["invoice_id"].map(tables["invoices"].set_index("invoice_id")["customer_id"])
    habit = habit.map(truth.set_index("customer_id")["habit"])
    weekday = tables["payments"]["payment_date"].dt.day_of_week
    for day, name in enumerate(HABITS[1:6]):
        mine = habit == name
        if mine.sum() > 50:
            assert (weekday[mine] == day).mean() > 0.6, name
    assert (weekday >= 5).mean() < 0.01, "hardly anyone pays at the weekend"


def _payments_with_calendar(tables: dict[str, pd.DataFrame], truth: pd.DataFrame) -> pd.DataFrame:
    customer = tables["payments"]["invoice_id"].map(tables["invoices"].set_index("invoice_id")["customer_id"])
    frame = pd.DataFrame({"customer_id": customer, "day": to_days(tables["payments"]["payment_date"])})
    frame["habit"] = customer.map(truth.set_index("customer_id")["habit"])
    frame["country"] = customer.map(tables["customers"].set_index("customer_id")["country"])
    return frame


def test_runs_are_paid_on_business_days_of_the_customers_country(medium):
    """No payment on a weekend or on a public holiday of the customer's country (e.g. 3 October in Germany)."""
    tables, truth = medium
    paid = _payments_with_calendar(tables, truth)
    calendar = BusinessCalendar.covering(paid["country"].unique(), paid["day"])
    code = calendar.codes(paid["country"])
    assert calendar.is_business_day(code, paid["day"].to_numpy()).all()
    # and the holidays are each country's own: Christmas Day (Wednesday 2024-12-25) is a business day in Japan only
    christmas = paid["day"] == to_days(pd.Series(["2024-12-25"]))[0]
    assert christmas.any() and set(paid.loc[christmas, "country"]) == {"JP"}


def test_month_end_runs_are_on_the_last_business_day_of_the_month(medium):
    """A month-end payer pays on the month's last business day (Fri 2024-08-30, not Sat 08-31), not the day after."""
    tables, truth = medium
    paid = _payments_with_calendar(tables, truth)
    paid = paid[paid["habit"] == "month_end"]
    assert len(paid) > 100
    calendar = BusinessCalendar.covering(paid["country"].unique(), paid["day"])
    last = calendar.month_end_business_day(calendar.codes(paid["country"]), paid["day"].to_numpy())
    assert (paid["day"].to_numpy() == last).mean() > 0.6
    assert not (paid["day"] == to_days(pd.Series(["2024-08-31"]))[0]).any()


def test_nothing_after_end_for_short_windows():
    tables = simulate(customers=40, months=3, seed=2, start="2024-03-15")
    end = pd.Timestamp("2024-06-15")
    for name, columns in EVENT_DATES.items():
        for column in columns:
            values = tables[name][column].dropna()
            assert values.empty or (values.max() <= end and values.min() >= pd.Timestamp("2024-03-15"))


def test_other_base_currency():
    tables = simulate(customers=50, months=6, seed=1, base_currency="EUR")
    assert tables["customers"]["currency"].mode()[0] == "EUR"
    assert "EUR" not in set(tables["fx_rates"]["currency"])
    with pytest.raises(ValueError):
        simulate(customers=5, months=1, base_currency="XXX")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_ledger_round_trips(tmp_path, small, fmt):
    paths = write_ledger(small, tmp_path, fmt=fmt)
    assert set(paths) == set(TABLES)
    for name, path in paths.items():
        assert path.name == f"{name}.{fmt}"
        frame = small[name]
        if fmt == "parquet":  # parquet has no second unit: dates come back as datetime64[ms]
            back = pd.read_parquet(path)
            back = back.astype({c: DATE_DTYPE for c in back.columns if back[c].dtype.kind == "M"})
        else:
            back = _read_csv_typed(path, frame)
        pd.testing.assert_frame_equal(back, frame, check_dtype=fmt == "parquet")


def _read_csv_typed(path, like: pd.DataFrame) -> pd.DataFrame:
    """Read a written CSV as text and type each column like the frame it was written from."""
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    back = pd.DataFrame(index=text.index)
    for column in like.columns:
        values = text[column]
        if pd.api.types.is_datetime64_any_dtype(like[column]):
            back[column] = pd.to_datetime(values.replace("", None), format="%Y-%m-%d").astype(DATE_DTYPE)
        elif pd.api.types.is_numeric_dtype(like[column]):
            back[column] = values.astype(like[column].dtype)
        else:
            back[column] = values
    return back


def test_csv_text_format(tmp_path, small):
    paths = write_ledger(small, tmp_path)
    lines = paths["invoices"].read_text().splitlines()
    assert lines[0] == "invoice_id,customer_id,invoice_date,due_date,amount,currency"
    assert lines[1].count(",") == 5 and '"' not in lines[1]
    invoice_date, amount = lines[1].split(",")[2], lines[1].split(",")[4]
    assert len(invoice_date) == 10 and invoice_date[4] == "-"
    assert len(amount.split(".")[1]) == 2
    disputes = paths["disputes"].read_text().splitlines()
    assert any(line.split(",")[3] == "" for line in disputes[1:]), "unresolved dispute: empty resolved_date"


def test_unknown_format_rejected(tmp_path, small):
    with pytest.raises(ValueError):
        write_ledger(small, tmp_path, fmt="xlsx")


def test_simulated_ledger_validates_without_errors(tmp_path):
    tables = simulate(customers=80, months=12, seed=5)
    write_ledger(tables, tmp_path)
    report = validate_dir(tmp_path)
    assert report.errors == [], [str(p) for p in report.errors[:10]]


def test_the_default_world_is_the_demo_world(small):
    again = simulate(customers=60, months=12, seed=7, world=World())
    for name in TABLES:
        pd.testing.assert_frame_equal(small[name], again[name])


def test_a_world_sets_the_mix_of_behaviours_habits_and_currencies():
    world = World(
        archetype_share=(0, 0, 0, 1, 0),
        habit_share=(0, 0, 0, 0, 0, 0, 0, 1, 0),
        currency_share=(0, 1, 0, 0, 0),
    )
    tables, truth = simulate_with_truth(customers=40, months=6, seed=3, world=world)
    assert set(truth["archetype"]) == {"deteriorating"}
    assert set(truth["habit"]) == {"month_end"}
    assert set(tables["customers"]["currency"]) == {"EUR"}  # the second currency of a USD book
    assert set(tables["customers"]["country"]) <= {"DE", "FR", "NL", "IT", "ES", "IE"}


@pytest.mark.parametrize(
    "bad", [{"archetype_share": (1, 0)}, {"habit_share": (0,) * 9}, {"currency_share": (1, -1, 0, 0, 1)}]
)
def test_a_world_with_bad_shares_is_refused(bad):
    with pytest.raises(ValueError, match="non-negative weights"):
        World(**bad)
