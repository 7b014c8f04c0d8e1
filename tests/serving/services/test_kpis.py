"""KPIs against hand-computed numbers (the tiny ledger of tests/support/ledgers.py; DOMAIN.md's countback example)."""

from __future__ import annotations

import pytest

from features.ledger.ledger import Ledger
from serving.services.kpis import (
    aging,
    aging_bucket,
    collection_effectiveness,
    compute_kpis,
    dso_countback,
    dso_standard,
    open_book,
    weighted_average_days_late,
)
from serving.services.provision import month_ends, provision_matrix
from tests.support.ledgers import tiny_tables, write_tables


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Ledger:
    return Ledger.load(write_tables(tiny_tables(), tmp_path_factory.mktemp("tiny")))


def test_countback_dso_domain_example():
    # AR 212k; monthly sales, latest first, 100k, 80k, 70k: 30 + 30 + 32/70 x 30 = 73.7 days
    assert dso_countback(212_000, [(100_000, 30), (80_000, 30), (70_000, 30)]) == pytest.approx(30 + 30 + 32 / 70 * 30)
    assert round(dso_countback(212_000, [(100_000, 30), (80_000, 30), (70_000, 30)]), 1) == 73.7


def test_countback_dso_edges():
    assert dso_countback(50, [(100, 30)]) == pytest.approx(15.0)
    assert dso_countback(500, [(100, 30), (0, 31), (100, 30)]) == 91  # AR outlasts the months: their days
    assert dso_countback(0, [(100, 30)]) == 0.0


def test_standard_dso_and_cei_formulas():
    assert dso_standard(1904, 4524, 90) == pytest.approx(1904 / 4524 * 90)
    assert dso_standard(100, 0, 90) is None
    assert collection_effectiveness(1000, 500, 600, 200) == pytest.approx((1000 + 500 - 600) / (1000 + 500 - 200) * 100)
    assert weighted_average_days_late([100, 300], [10, -2]) == pytest.approx((1000 - 600) / 400)


def test_aging_buckets_edges():
    assert list(aging_bucket([-5, 0, 1, 30, 31, 60, 61, 90, 91])) == [
        "current",
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
    ]


def test_kpis_of_the_tiny_ledger_by_hand(tiny):
    # At 2024-03-15 the open book is I2 500 USD (13 days past due), I3 500 EUR (15 dpd), I4 800 EUR (not due);
    # EUR at the closing rate 1.08: I3 540.00, I4 864.00. Credit sales (2023-12-16, 2024-03-15]: all four invoices,
    # 1000 + 500 + (2000 + 800) x 1.08 = 4524. Beginning AR (2023-12-16) 0.
    report = compute_kpis(tiny, "2024-03-15", period_days=90)
    assert report.aging_cents == {"current": 86400, "1-30": 104000, "31-60": 0, "61-90": 0, "90+": 0}
    f = {name: figure.value for name, figure in report.figures.items()}
    assert f["ending_ar"] == 1904.00
    assert f["credit_sales"] == 4524.00
    assert f["dso_standard"] == pytest.approx(1904 / 4524 * 90)
    assert f["best_possible_dso"] == pytest.approx(864 / 4524 * 90)
    assert f["average_days_delinquent"] == pytest.approx(1040 / 4524 * 90)
    assert f["cei"] == pytest.approx((0 + 4524 - 1904) / (0 + 4524 - 864) * 100)
    assert f["past_due_percent"] == pytest.approx(1040 / 1904 * 100)
    assert f["weighted_average_days_late"] == pytest.approx(20.0)  # I1 due 01-31, settled 02-20; I3 settles later
    # countback: (02-15, 03-15] 864 over 29 days, (01-15, 02-15] 500 over 31, (12-15, 01-15] 3160 over 31
    assert f["dso_countback"] == pytest.approx(29 + 31 + (1904 - 864 - 500) / 3160 * 31)
    assert "NOT divided" in report.figures["cei"].formula
    assert all(figure.formula for figure in report.figures.values())


def test_aging_reconciles_to_the_cent_with_the_open_invoices(tiny):
    book = open_book(tiny, "2024-03-15")
    assert sum(aging(book).values()) == int(book["open_cents"].sum())
    assert sorted(book["invoice_id"]) == ["I2", "I3", "I4"]


def test_provision_matrix_by_hand(tiny):
    # At 2024-12-31 every outcome is known: I1 and I3 were settled in time, I2 (never paid) and I4 (written off)
    # defaulted. Month-ends 2024-01..11 put them in buckets (EUR at 1.08):
    #   current: 01-31 I1 1000 + I3 2160, 02-29 I2 500 + I3 2160, 03-31 I4 864 -> 6684, of which 500 + 864 defaulted
    #   1-30, 31-60, 61-90: one month each of I2 (500) and I4 (864), all defaulted
    #   90+: I2 at six month-ends (06..11), I4 at two (07, 08) -> 4728, all defaulted
    # Open at 2024-12-31: I2 500 (90+) -> allowance 500.
    rows = {row.bucket: row for row in provision_matrix(tiny, "2024-12-31")}
    assert rows["current"].historical_amount == 6684.0
    assert rows["current"].defaulted_amount == 1364.0
    assert rows["current"].loss_rate == pytest.approx(1364 / 6684)
    for bucket in ("1-30", "31-60", "61-90"):
        assert (rows[bucket].historical_amount, rows[bucket].loss_rate) == (1364.0, 1.0)
    assert (rows["90+"].historical_amount, rows["90+"].loss_rate) == (4728.0, 1.0)
    assert rows["90+"].current_amount == 500.0
    assert sum(row.allowance for row in rows.values()) == 500.0


def test_provision_matrix_leaves_out_outcomes_not_yet_known(tiny):
    # At 2024-03-15 only I1 (settled 02-20) has a known outcome; I2 and I3 are still open and not yet in default.
    rows = {row.bucket: row for row in provision_matrix(tiny, "2024-03-15")}
    assert rows["current"].historical_amount == 1000.0
    assert rows["current"].loss_rate == 0.0
    assert rows["1-30"].loss_rate is None


def test_month_ends_are_strictly_before_the_date():
    assert [d.date().isoformat() for d in month_ends("2024-03-31", 2)] == ["2024-01-31", "2024-02-29"]
