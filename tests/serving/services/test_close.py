"""The period close of the hand-made ledger (tests/support/close_ledgers.py), every figure worked out by hand."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from serving.services.close import Adjustment, CloseError, CloseInputs, compute_close, journal_totals
from serving.services.close_export import INTACCT_COLUMNS, NETSUITE_COLUMNS, journal_csv
from tests.support.close_ledgers import PERIOD, close_ledger, close_scores

ADJUSTMENT = Adjustment(Decimal("50.00"), "recession outlook for smb", "ana")


def close(opening: str = "500.00", basis: str = "model", adjustment: Adjustment | None = ADJUSTMENT, **kwargs):
    inputs = CloseInputs(PERIOD, basis=basis, adjustment=adjustment, opening_allowance=Decimal(opening))
    return compute_close(kwargs.pop("ledger", None) or close_ledger(), kwargs.pop("scores", close_scores()), inputs)


def test_aging_at_the_period_end_by_hand():
    figures = close()
    assert figures["aging"]["buckets"] == {
        "current": "1250.00",  # O1 1000 + O4 250
        "1-30": "2000.00",  # O2 2500 - 500 paid, 30 days past due
        "31-60": "333.33",  # O3, 60 days past due
        "61-90": "0.00",
        "90+": "0.00",
    }
    assert figures["aging"]["total"] == "3583.33" and figures["aging"]["open_invoices"] == 4


def test_model_ecl_per_invoice_pools_and_total_reconcile_to_the_cent():
    model = close()["model_ecl"]
    assert {r["invoice_id"]: r["ecl"] for r in model["invoices"]} == {
        "O1": "20.00",  # 1000.00 x 0.02
        "O2": "200.00",  # 2000.00 x 0.1
        "O3": "111.10",  # 333.33 x 0.3333 = 111.098889 -> 111.10
        "O4": "12.50",  # 250.00 x 0.05
    }
    assert model["total"] == "343.60" and Decimal(model["unrounded_total"]) == Decimal("343.598889")
    pools = {(p["bucket"], p["segment"]): p["ecl"] for p in model["pools"]}
    assert pools == {
        ("current", "enterprise"): "12.50",
        ("current", "smb"): "20.00",
        ("1-30", "enterprise"): "200.00",
        ("31-60", "smb"): "111.10",
    }
    assert sum(Decimal(v) for v in pools.values()) == Decimal(model["total"])


def test_lgd_scales_the_model_ecl():
    inputs = CloseInputs(PERIOD, lgd=Decimal("0.5"))
    model = compute_close(close_ledger(), close_scores(), inputs)["model_ecl"]
    assert {r["invoice_id"]: r["ecl"] for r in model["invoices"]}["O3"] == "55.55"  # 55.549... -> 55.55
    assert model["total"] == "171.80"  # 10.00 + 100.00 + 55.55 + 6.25


def test_provision_matrix_loss_rates_by_hand():
    """Month-ends Jan-May 2024 (outcome known by 2024-06-30 only): current 1400 (Jan: H1, H2) + 600 (Feb: H3) + 500
    (Mar: H4) of which H2 400 and H4 500 defaulted; 1-30: H2 400 (Feb) + H3 600 (Mar) + H4 300 (Apr), H2 and H4
    defaulted; 31-60: H2 400 (Mar); 61-90: H4 300 (May). O2 and O3, open at Apr/May month-ends but with no outcome
    by the period end, are left out."""
    rows = {r["bucket"]: r for r in close()["provision_matrix"]["rows"]}
    assert (rows["current"]["historical_amount"], rows["current"]["defaulted_amount"]) == ("2500.00", "900.00")
    assert rows["current"]["loss_rate"] == "0.36000000"
    assert (rows["1-30"]["historical_amount"], rows["1-30"]["defaulted_amount"]) == ("1300.00", "700.00")
    assert rows["1-30"]["loss_rate"] == "0.53846154"  # 7/13
    assert rows["31-60"]["loss_rate"] == rows["61-90"]["loss_rate"] == "1.00000000"
    assert rows["90+"]["loss_rate"] is None
    # allowance: 1250 x 0.36 = 450.00; 2000 x 7/13 = 1076.923 -> 1076.92; 333.33 x 1
    assert [rows[b]["allowance"] for b in rows] == ["450.00", "1076.92", "333.33", "0.00", "0.00"]
    assert close()["provision_matrix"]["total"] == "1860.25"


def test_provision_matrix_by_segment_uses_each_segments_own_history():
    """All history is smb (C1): smb gets the book's rates (O1 1000 x 0.36 = 360.00, O3 333.33 x 1); enterprise
    (C2: O2, O4) has no known outcome in its past, so no loss rate and no matrix allowance."""
    inputs = CloseInputs(PERIOD, basis="matrix", matrix_by="segment")
    figures = compute_close(close_ledger(), close_scores(), inputs)
    groups = {g["group"]: g for g in figures["provision_matrix"]["groups"]}
    assert groups["smb"]["total"] == "693.33" and groups["enterprise"]["total"] == "0.00"
    assert {r["loss_rate"] for r in groups["enterprise"]["rows"]} == {None}
    assert figures["provision_matrix"]["total"] == figures["allowance"]["closing"] == "693.33"
    assert figures["provision_matrix"]["rows"][0]["loss_rate"] == "0.36000000"  # the book's matrix stays beside
    assert CloseInputs.from_json(figures["inputs"]) == inputs


def test_journal_entry_balances_and_equals_the_change_in_allowance_plus_write_offs():
    figures = close()
    movement = figures["allowance"]
    assert movement["closing"] == "393.60"  # model 343.60 + adjustment 50.00
    assert movement["write_offs"] == "300.00"  # W2, 2024-06-10; W1 (April) is not in the period
    assert movement["bad_debt_expense"] == "193.60"  # 393.60 - 500.00 + 300.00
    lines = [(x["account"], x["debit"], x["credit"]) for x in figures["journal"]]
    assert lines == [
        ("6100", "193.60", "0.00"),
        ("1290", "0.00", "193.60"),
        ("1290", "300.00", "0.00"),
        ("1200", "0.00", "300.00"),
    ]
    debits, credits = journal_totals(figures["journal"])
    assert debits == credits == Decimal("493.60")
    expense = sum(Decimal(x["debit"]) - Decimal(x["credit"]) for x in figures["journal"] if x["account"] == "6100")
    assert expense == Decimal(movement["change"]) + Decimal(movement["write_offs"])
    allowance = sum(Decimal(x["credit"]) - Decimal(x["debit"]) for x in figures["journal"] if x["account"] == "1290")
    assert allowance == Decimal(movement["closing"]) - Decimal(movement["opening"])


def test_a_release_reverses_the_expense_line():
    figures = close(opening="1000.00")
    assert figures["allowance"]["bad_debt_expense"] == "-306.40"  # 393.60 - 1000.00 + 300.00
    assert [(x["account"], x["debit"], x["credit"]) for x in figures["journal"][:2]] == [
        ("1290", "306.40", "0.00"),
        ("6100", "0.00", "306.40"),
    ]
    debits, credits = journal_totals(figures["journal"])
    assert debits == credits


def test_matrix_basis_books_the_matrix_allowance():
    movement = close(basis="matrix", adjustment=None, opening="0")["allowance"]
    assert movement["closing"] == "1860.25" and movement["bad_debt_expense"] == "2160.25"


def test_facts_after_the_period_end_change_nothing():
    """No leakage: the July payment, write-off and invoice of the longer ledger do not reach the June close."""
    assert close(ledger=close_ledger(after=True)) == close()


def test_recomputing_gives_the_same_figures_from_the_frozen_inputs():
    figures = close()
    again = compute_close(close_ledger(), close_scores(), CloseInputs.from_json(figures["inputs"]))
    assert again == figures


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (close_scores({"O1": 0.1, "O2": 0.1, "O3": 0.1}), r"1 open invoice\(s\) unscored \(e.g. O4\)"),
        (close_scores({**{k: 0.1 for k in ("O1", "O2", "O3", "O4")}, "H1": 0.2}), r"scored invoice\(s\) not open"),
        (close_scores({"O1": 0.1, "O2": 0.1, "O3": 0.1, "O4": float("nan")}), "no P\\(default\\)"),
    ],
)
def test_scores_that_do_not_fit_the_open_book_are_refused(scores, message):
    with pytest.raises(CloseError, match=message):
        close(scores=scores)


@pytest.mark.parametrize(
    ("period", "message"), [("2024-6", "YYYY-MM"), ("2024-13", "YYYY-MM"), ("2024-07", "after the ledger's last")]
)
def test_bad_or_unfinished_periods_are_refused(period, message):
    with pytest.raises(CloseError, match=message):
        compute_close(close_ledger(), close_scores(), CloseInputs(period))


def test_an_adjustment_needs_a_reason_and_an_author():
    with pytest.raises(CloseError, match="reason"):
        Adjustment(Decimal("10"), " ", "ana")
    with pytest.raises(CloseError, match="author"):
        Adjustment(Decimal("10"), "outlook", "")


def test_journal_csv_layouts_carry_the_same_balanced_amounts():
    figures = close()
    generic = list(csv.DictReader(io.StringIO(journal_csv(figures, "generic", close_id=7))))
    assert [r["debit"] for r in generic] == ["193.60", "0.00", "300.00", "0.00"]
    assert {r["entry_id"] for r in generic} == {"PAYRISK-CLOSE-2024-06-7"}
    netsuite = list(csv.reader(io.StringIO(journal_csv(figures, "netsuite", close_id=7))))
    assert tuple(netsuite[0]) == NETSUITE_COLUMNS
    assert [(r[4], r[5], r[6]) for r in netsuite[1:]] == [
        ("6100", "193.60", ""),
        ("1290", "", "193.60"),
        ("1290", "300.00", ""),
        ("1200", "", "300.00"),
    ]
    assert {r[1] for r in netsuite[1:]} == {"06/30/2024"}
    intacct = list(csv.DictReader(io.StringIO(journal_csv(figures, "intacct", close_id=7))))
    assert tuple(intacct[0]) == INTACCT_COLUMNS
    assert [r["LINE_NO"] for r in intacct] == ["1", "2", "3", "4"]
    assert intacct[0]["JOURNAL"] == "GJ" and intacct[1]["JOURNAL"] == ""  # header fields on the first line only
    for rows, debit, credit in ((generic, "debit", "credit"), (intacct, "DEBIT", "CREDIT")):
        assert sum(Decimal(r[debit] or 0) for r in rows) == sum(Decimal(r[credit] or 0) for r in rows)
