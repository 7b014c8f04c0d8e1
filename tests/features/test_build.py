"""Golden values: every feature of chosen (invoice, T) rows of a small hand-made ledger, computed by hand.

The expected values below are written from the ledger facts (the dates and amounts in LEDGER) and the definitions
in features/catalog.py and shared/DOMAIN.md, never copied from the code's output. Day counts are written as
`days(a, b)` (b - a in calendar days, plain date arithmetic) with the number spelled out in a comment.

The ledger (base currency USD), as of T1 = 2024-03-20 (Wed) and T2 = 2024-04-20 (Sat):

C1 (USD, credit limit 10,000) pays in runs, mostly on Mondays.
    A12 2023-12-01 due 2023-12-31   400  pays 50 on 2023-12-28, 350 on 2024-04-10: due + 90 = 2024-03-30 passed
                                          unsettled -> a default (known from 2024-03-30), settled 101 days late
    A1  2024-01-01 due 2024-01-31  1000  pays 600 on 01-29, 400 on 02-05 (partial, 5 days late)
    A2  2024-01-05 due 2024-02-04   500  pays on 01-30 (5 days early)
    A3  2024-01-10 due 2024-02-09  2000  credit memo 200 on 01-20, pays 1800 on 02-19 (10 late); dispute 02-01..02-15
    A4  2024-01-15 due 2024-02-14   300  written off on 03-01
    A5  2024-01-20 due 2024-02-19   800  pays on 03-04 (14 late)
    A6  2024-02-01 due 2024-03-02  1200  pays on 03-08 (6 late)
    A7  2024-01-02 due 2024-01-12   400  pays on 02-29 (48 late)
    A8  2024-02-20 due 2024-03-21  1500  pays 500 on 03-15, 1000 on 04-25; dispute opened 03-10, resolved 04-05
    A9  2024-01-25 due 2024-02-24   600  promise made 02-26 for 03-01 (broken), promise made 03-12 for 03-22,
                                          pays on 03-23 (kept: within the 3 days of grace), 28 days late
    A10 2024-02-05 due 2024-03-06   250  never paid (45 days past due at T2)
    A11 2024-04-01 due 2024-05-01   900  not yet due at T2
C2 (EUR invoices; EUR->USD 1.10 from 2024-01-01, 1.08 from 03-01, 1.12 from 04-01)
    B2  2024-01-10 due 2024-02-24  1000 EUR  pays 600 on 02-13, 400 on 02-20 (4 days early)
    B1  2024-02-15 due 2024-03-31  2000 EUR  credit memo 100 on 03-10, pays 500 on 04-05
C3 (USD, no credit limit) has no settled invoice: the cold start
    K1  2024-02-01 due 2024-03-02   700  pays 200 on 03-14, nothing more
    K2  2024-03-18 due 2024-04-17   300
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from features.build import ID_COLUMNS, build_features
from features.catalog import SNAPSHOT_FEATURES
from features.ledger.ledger import Ledger

T1, T2 = "2024-03-20", "2024-04-20"
NAN = float("nan")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def _inv(invoice_id, customer_id, invoice_date, due_date, amount, currency="USD"):
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "invoice_date": invoice_date,
        "due_date": due_date,
        "amount": amount,
        "currency": currency,
    }


LEDGER = {
    "customers": [
        {
            "customer_id": "C1",
            "name": "Acme",
            "country": "US",
            "segment": "smb",
            "payment_terms_days": "30",
            "credit_limit": "10000",
            "currency": "USD",
            "collector_id": "K1",
        },
        {
            "customer_id": "C2",
            "name": "Brie SA",
            "country": "FR",
            "segment": "enterprise",
            "payment_terms_days": "45",
            "credit_limit": "50000",
            "currency": "EUR",
            "collector_id": "K2",
        },
        {
            "customer_id": "C3",
            "name": "Coldstart GmbH",
            "country": "DE",
            "segment": "smb",
            "payment_terms_days": "30",
            "credit_limit": "",
            "currency": "USD",
            "collector_id": "K3",
        },
    ],
    "invoices": [
        _inv("A12", "C1", "2023-12-01", "2023-12-31", "400.00"),
        _inv("A1", "C1", "2024-01-01", "2024-01-31", "1000.00"),
        _inv("A2", "C1", "2024-01-05", "2024-02-04", "500.00"),
        _inv("A3", "C1", "2024-01-10", "2024-02-09", "2000.00"),
        _inv("A4", "C1", "2024-01-15", "2024-02-14", "300.00"),
        _inv("A5", "C1", "2024-01-20", "2024-02-19", "800.00"),
        _inv("A6", "C1", "2024-02-01", "2024-03-02", "1200.00"),
        _inv("A7", "C1", "2024-01-02", "2024-01-12", "400.00"),
        _inv("A8", "C1", "2024-02-20", "2024-03-21", "1500.00"),
        _inv("A9", "C1", "2024-01-25", "2024-02-24", "600.00"),
        _inv("A10", "C1", "2024-02-05", "2024-03-06", "250.00"),
        _inv("A11", "C1", "2024-04-01", "2024-05-01", "900.00"),
        _inv("B2", "C2", "2024-01-10", "2024-02-24", "1000.00", "EUR"),
        _inv("B1", "C2", "2024-02-15", "2024-03-31", "2000.00", "EUR"),
        _inv("K1", "C3", "2024-02-01", "2024-03-02", "700.00"),
        _inv("K2", "C3", "2024-03-18", "2024-04-17", "300.00"),
    ],
    "payments": [
        {"payment_id": f"P{i}", "invoice_id": invoice, "payment_date": date, "amount": amount}
        for i, (invoice, date, amount) in enumerate(
            [
                ("A12", "2023-12-28", "50.00"),
                ("A1", "2024-01-29", "600.00"),
                ("A2", "2024-01-30", "500.00"),
                ("A1", "2024-02-05", "400.00"),
                ("A3", "2024-02-19", "1800.00"),
                ("A7", "2024-02-29", "400.00"),
                ("A5", "2024-03-04", "800.00"),
                ("A6", "2024-03-08", "1200.00"),
                ("A8", "2024-03-15", "500.00"),
                ("A9", "2024-03-23", "600.00"),
                ("A12", "2024-04-10", "350.00"),
                ("A8", "2024-04-25", "1000.00"),
                ("B2", "2024-02-13", "600.00"),
                ("B2", "2024-02-20", "400.00"),
                ("B1", "2024-04-05", "500.00"),
                ("K1", "2024-03-14", "200.00"),
            ]
        )
    ],
    "adjustments": [
        {"adjustment_id": "J1", "invoice_id": "A3", "date": "2024-01-20", "amount": "200.00", "kind": "credit_memo"},
        {"adjustment_id": "J2", "invoice_id": "A4", "date": "2024-03-01", "amount": "300.00", "kind": "write_off"},
        {"adjustment_id": "J3", "invoice_id": "B1", "date": "2024-03-10", "amount": "100.00", "kind": "credit_memo"},
    ],
    "disputes": [
        {
            "dispute_id": "D1",
            "invoice_id": "A3",
            "opened_date": "2024-02-01",
            "resolved_date": "2024-02-15",
            "reason": "price",
        },
        {
            "dispute_id": "D2",
            "invoice_id": "A8",
            "opened_date": "2024-03-10",
            "resolved_date": "2024-04-05",
            "reason": "short shipment",
        },
    ],
    "promises": [
        {
            "promise_id": "R1",
            "invoice_id": "A9",
            "created_date": "2024-02-26",
            "promised_date": "2024-03-01",
            "amount": "600.00",
        },
        {
            "promise_id": "R2",
            "invoice_id": "A9",
            "created_date": "2024-03-12",
            "promised_date": "2024-03-22",
            "amount": "600.00",
        },
    ],
    "fx_rates": [
        {"date": "2024-01-01", "currency": "EUR", "rate_to_base": "1.10"},
        {"date": "2024-03-01", "currency": "EUR", "rate_to_base": "1.08"},
        {"date": "2024-04-01", "currency": "EUR", "rate_to_base": "1.12"},
    ],
}


def days(a: str, b: str) -> int:
    """b - a in calendar days."""
    return (pd.Timestamp(b) - pd.Timestamp(a)).days


def ewm(values: list[float], alpha: float = 0.3) -> float:
    """pandas ewm(alpha, adjust=True).mean() at the newest value: weight (1 - alpha)**i, i = 0 for the newest."""
    newest_first = values[::-1]
    weights = [(1 - alpha) ** i for i in range(len(values))]
    return sum(w * x for w, x in zip(weights, newest_first, strict=True)) / sum(weights)


# --------------------------------------------------------------------------- C1's settled history
# (invoice, due, settled, amount in base, payments up to settlement), in settlement order
C1_SETTLED = [
    ("A2", "2024-02-04", "2024-01-30", 500.0, 1),  # -5
    ("A1", "2024-01-31", "2024-02-05", 1000.0, 2),  # +5, paid in two
    ("A3", "2024-02-09", "2024-02-19", 2000.0, 1),  # +10 (the credit memo is not a payment)
    ("A7", "2024-01-12", "2024-02-29", 400.0, 1),  # +48: 19 days of January + 29 of February
    ("A5", "2024-02-19", "2024-03-04", 800.0, 1),  # +14
    ("A6", "2024-03-02", "2024-03-08", 1200.0, 1),  # +6
    # settled between T1 and T2
    ("A9", "2024-02-24", "2024-03-23", 600.0, 1),  # +28
    ("A12", "2023-12-31", "2024-04-10", 400.0, 2),  # +101: 31 (Jan) + 29 (Feb) + 31 (Mar) + 10
]
LATE_T1 = [-5, 5, 10, 48, 14, 6]
LATE_T2 = [*LATE_T1, 28, 101]


def test_hand_lists_agree_with_the_dates():
    assert [days(due, settled) for _, due, settled, _, _ in C1_SETTLED] == LATE_T2


def test_ewm_helper_is_the_pandas_adjust_true_convention():
    for values in (LATE_T1, LATE_T2, [3.0]):
        expected = pd.Series(values, dtype=float).ewm(alpha=0.3, adjust=True).mean().iloc[-1]
        assert math.isclose(ewm(values), expected, rel_tol=1e-12)


C1_T1 = {
    "hist_promise_count": 1,  # R1 (date 03-01 + 3 grace = 03-04 <= T1); R2's 03-25 is after T1
    "hist_settled_count": 6,
    "hist_settled_amount_base": 500 + 1000 + 2000 + 400 + 800 + 1200,  # 5900
    "hist_days_late_mean": 78 / 6,  # sum(LATE_T1) = 78
    "hist_days_late_std": statistics.pstdev(LATE_T1),  # squares of (-18, -8, -3, 35, 1, -7): 1672 / 6
    "hist_days_late_median_last10": (6 + 10) / 2,  # sorted -5 5 6 10 14 48
    "hist_days_late_ewm": ewm(LATE_T1),
    "hist_days_late_last5_mean": (5 + 10 + 48 + 14 + 6) / 5,
    "hist_last5_late30_count": 1,  # A7's 48
    "hist_last5_count": 5,
    "hist_days_late_amount_weighted": (-5 * 500 + 5 * 1000 + 10 * 2000 + 48 * 400 + 14 * 800 + 6 * 1200) / 5900,
    "hist_share_late": 5 / 6,
    "hist_share_late_30": 1 / 6,
    "hist_amount_share_late": (1000 + 2000 + 400 + 800 + 1200) / 5900,
    "hist_amount_share_late_30": 400 / 5900,
    "hist_partial_payment_share": 1 / 6,  # A1 (A3's credit memo + one payment is not 'more than one payment')
    "hist_days_late_trend": ewm(LATE_T1) - 78 / 6,
    "is_cold_start": 0,
    "hist_default_count": 1,  # A4 written off on 03-01; A12's default (03-30) is after T1
    "hist_outcome_count": 7,  # the 6 settled + A4
    "hist_default_rate": 1 / 7,
    "hist_write_off_count": 1,
    # payments by T1: 12-28 Thu, 01-29 Mon, 01-30 Tue, 02-05 Mon, 02-19 Mon, 02-29 Thu, 03-04 Mon, 03-08 Fri,
    # 03-15 Fri
    "hist_payment_count": 9,
    "days_since_last_payment": days("2024-03-15", T1),  # 5
    "hist_month_end_payment_share": 3 / 9,  # 01-29 (3rd-last day of January), 01-30, 02-29; not 12-28 (4th last)
    "hist_quarter_end_payment_share": 1 / 9,  # 12-28 (4th-last day of Q4 2023)
    "hist_mid_month_payment_share": 1 / 9,  # 03-15
    "hist_weekday_concentration": 4 / 9,  # four Mondays
    "hist_modal_payment_weekday": MON,
    "tenure_days": days("2023-12-01", T1),  # 111, from A12
    "hist_invoice_count": 11,  # all but A11
    "segment": "smb",
    "country": "US",
    "collector_id": "K1",
    "customer_terms_days": 30,
    "hist_dispute_rate": 2 / 11,  # D1 (A3) and D2 (A8)
    "hist_promise_kept_rate": 0 / 1,  # R1 was broken
}
C1_ISSUED_T1 = 400 + 1000 + 500 + 2000 + 300 + 800 + 1200 + 400 + 1500 + 600 + 250  # 8950, 11 invoices
# open at T1: A8 1000 (due tomorrow), A9 600 (25 past due), A10 250 (14), A12 350 (80: 31 + 29 + 20)
C1_EXPOSURE_T1 = {
    "cust_open_count": 4,
    "cust_open_amount_base": 1000 + 600 + 250 + 350,  # 2200
    "cust_past_due_count": 3,
    "cust_max_days_past_due": 80,
    "cust_past_due_1_30_base": 600 + 250,
    "cust_past_due_31_60_base": 0,
    "cust_past_due_61_90_base": 350,
    "cust_past_due_90_plus_base": 0,
    "cust_past_due_share": (600 + 250 + 350) / 2200,
    "credit_utilisation": 2200 / 10000,
    # censoring: the three open past-due invoices count as 25, 14 and 80 days late
    "hist_days_late_mean_censored": (78 + 25 + 14 + 80) / (6 + 3),
}

C1_T2 = {
    "hist_promise_count": 2,  # R2's 03-22 + 3 = 03-25 <= T2
    "hist_settled_count": 8,
    "hist_settled_amount_base": 5900 + 600 + 400,  # 6900
    "hist_days_late_mean": (78 + 28 + 101) / 8,
    "hist_days_late_std": statistics.pstdev(LATE_T2),
    "hist_days_late_median_last10": (10 + 14) / 2,  # sorted -5 5 6 10 14 28 48 101
    "hist_days_late_ewm": ewm(LATE_T2),
    "hist_days_late_last5_mean": (48 + 14 + 6 + 28 + 101) / 5,
    "hist_last5_late30_count": 2,  # 48 and 101
    "hist_last5_count": 5,
    "hist_days_late_amount_weighted": (60100 + 28 * 600 + 101 * 400) / 6900,
    "hist_share_late": 7 / 8,
    "hist_share_late_30": 2 / 8,
    "hist_amount_share_late": (5400 + 600 + 400) / 6900,
    "hist_amount_share_late_30": (400 + 400) / 6900,
    "hist_partial_payment_share": 2 / 8,  # A1 and A12
    "hist_days_late_trend": ewm(LATE_T2) - 207 / 8,
    "is_cold_start": 0,
    "hist_default_count": 2,  # A4 (write-off) and A12 (unsettled at due + 90 = 03-30, though paid later)
    "hist_outcome_count": 9,  # + A9 (settled 03-23) + A12 (defaulted 03-30)
    "hist_default_rate": 2 / 9,
    "hist_write_off_count": 1,
    "hist_payment_count": 11,  # + 03-23 (Sat), 04-10 (Wed); A8's 04-25 is after T2
    "days_since_last_payment": days("2024-04-10", T2),  # 10
    "hist_month_end_payment_share": 3 / 11,
    "hist_quarter_end_payment_share": 1 / 11,  # 03-23 is 9 days before the quarter end, not in the last 5
    "hist_mid_month_payment_share": 1 / 11,
    "hist_weekday_concentration": 4 / 11,
    "hist_modal_payment_weekday": MON,
    "tenure_days": days("2023-12-01", T2),
    "hist_invoice_count": 12,
    "segment": "smb",
    "country": "US",
    "collector_id": "K1",
    "customer_terms_days": 30,
    "hist_dispute_rate": 2 / 12,
    "hist_promise_kept_rate": 1 / 2,  # R2 kept by the 03-23 payment (<= 03-22 + 3)
}
C1_ISSUED_T2 = C1_ISSUED_T1 + 900
# open at T2: A8 1000 (30 past due: 10 + 20), A10 250 (45: 25 + 20), A11 900 (due in 11 days)
C1_EXPOSURE_T2 = {
    "cust_open_count": 3,
    "cust_open_amount_base": 1000 + 250 + 900,  # 2150
    "cust_past_due_count": 2,
    "cust_max_days_past_due": 45,
    "cust_past_due_1_30_base": 1000,
    "cust_past_due_31_60_base": 250,  # 45 days past due
    "cust_past_due_61_90_base": 0,
    "cust_past_due_90_plus_base": 0,
    "cust_past_due_share": 1250 / 2150,
    "credit_utilisation": 2150 / 10000,
    "hist_days_late_mean_censored": (207 + 30 + 45) / (8 + 2),
}

NO_DISPUTE = {"dispute_open": 0, "dispute_age_days": NAN, "dispute_count": 0}
NO_PROMISE = {"promise_outstanding": 0, "days_to_promised_date": NAN, "promise_broken_count": 0}


def usd(amount: float) -> dict:
    return {
        "currency": "USD",
        "open_amount": amount,
        "open_amount_base": amount,
        "log_open_amount_base": math.log1p(amount),
    }


EXPECTED: dict[tuple[str, str], dict] = {}

# A9 at T1: past due, one broken promise, an outstanding one
EXPECTED[("A9", T1)] = {
    **usd(600),
    "amount_base": 600,
    "share_paid": 0,
    "share_credited": 0,
    "partial_payment_count": 0,
    "terms_days": 30,
    "days_since_invoice": days("2024-01-25", T1),  # 55
    "days_to_due": -25,
    "days_past_due": 25,  # 5 days of February + 20 of March
    "due_weekday": SAT,
    "due_days_to_month_end": days("2024-02-24", "2024-02-29"),
    "due_days_to_quarter_end": days("2024-02-24", "2024-03-31"),
    "due_date": pd.Timestamp("2024-02-24"),
    **NO_DISPUTE,
    "promise_outstanding": 1,
    "days_to_promised_date": days(T1, "2024-03-22"),  # 2
    "promise_broken_count": 1,  # R1: no payment between 02-26 and 03-01 + 3
    **C1_T1,
    "amount_vs_typical": 600 / (C1_ISSUED_T1 / 11),
    **C1_EXPOSURE_T1,
}
# A8 at T1: partial payment, dispute open for 10 days, due tomorrow
EXPECTED[("A8", T1)] = {
    **usd(1000),
    "amount_base": 1500,
    "share_paid": 500 / 1500,
    "share_credited": 0,
    "partial_payment_count": 1,
    "terms_days": days("2024-02-20", "2024-03-21"),  # 30
    "days_since_invoice": days("2024-02-20", T1),
    "days_to_due": 1,
    "days_past_due": 0,
    "due_weekday": THU,
    "due_days_to_month_end": 10,
    "due_days_to_quarter_end": 10,
    "due_date": pd.Timestamp("2024-03-21"),
    "dispute_open": 1,
    "dispute_age_days": days("2024-03-10", T1),
    "dispute_count": 1,
    **NO_PROMISE,
    **C1_T1,
    "amount_vs_typical": 1500 / (C1_ISSUED_T1 / 11),
    **C1_EXPOSURE_T1,
}
# A12 at T1: 80 days past due (61-90 bucket), 50 of 400 paid
EXPECTED[("A12", T1)] = {
    **usd(350),
    "amount_base": 400,
    "share_paid": 50 / 400,
    "share_credited": 0,
    "partial_payment_count": 1,
    "terms_days": 30,
    "days_since_invoice": days("2023-12-01", T1),
    "days_to_due": -80,
    "days_past_due": 80,
    "due_weekday": SUN,
    "due_days_to_month_end": 0,
    "due_days_to_quarter_end": 0,
    "due_date": pd.Timestamp("2023-12-31"),
    **NO_DISPUTE,
    **NO_PROMISE,
    **C1_T1,
    "amount_vs_typical": 400 / (C1_ISSUED_T1 / 11),
    **C1_EXPOSURE_T1,
}
# A8 at T2: the dispute was resolved on 04-05
EXPECTED[("A8", T2)] = {
    **usd(1000),
    "amount_base": 1500,
    "share_paid": 500 / 1500,
    "share_credited": 0,
    "partial_payment_count": 1,
    "terms_days": 30,
    "days_since_invoice": days("2024-02-20", T2),
    "days_to_due": -30,
    "days_past_due": 30,
    "due_weekday": THU,
    "due_days_to_month_end": 10,
    "due_days_to_quarter_end": 10,
    "due_date": pd.Timestamp("2024-03-21"),
    "dispute_open": 0,
    "dispute_age_days": NAN,
    "dispute_count": 1,
    **NO_PROMISE,
    **C1_T2,
    "amount_vs_typical": 1500 / (C1_ISSUED_T2 / 12),
    **C1_EXPOSURE_T2,
}
# A10 at T2: 45 days past due
EXPECTED[("A10", T2)] = {
    **usd(250),
    "amount_base": 250,
    "share_paid": 0,
    "share_credited": 0,
    "partial_payment_count": 0,
    "terms_days": days("2024-02-05", "2024-03-06"),
    "days_since_invoice": days("2024-02-05", T2),  # 30, 75
    "days_to_due": -45,
    "days_past_due": 45,
    "due_weekday": WED,
    "due_days_to_month_end": days("2024-03-06", "2024-03-31"),
    "due_days_to_quarter_end": days("2024-03-06", "2024-03-31"),
    "due_date": pd.Timestamp("2024-03-06"),
    **NO_DISPUTE,
    **NO_PROMISE,
    **C1_T2,
    "amount_vs_typical": 250 / (C1_ISSUED_T2 / 12),
    **C1_EXPOSURE_T2,
}
# A11 at T2: not yet due; due 2024-05-01 (a Wednesday), 30 days before the month end, 60 before June 30
EXPECTED[("A11", T2)] = {
    **usd(900),
    "amount_base": 900,
    "share_paid": 0,
    "share_credited": 0,
    "partial_payment_count": 0,
    "terms_days": 30,
    "days_since_invoice": days("2024-04-01", T2),
    "days_to_due": 11,
    "days_past_due": 0,
    "due_weekday": WED,
    "due_days_to_month_end": 30,
    "due_days_to_quarter_end": 30 + 30,
    "due_date": pd.Timestamp("2024-05-01"),
    **NO_DISPUTE,
    **NO_PROMISE,
    **C1_T2,
    "amount_vs_typical": 900 / (C1_ISSUED_T2 / 12),
    **C1_EXPOSURE_T2,
}

# C2: EUR. amount_base at the rate of the invoice date (1.10 on 02-15); open_amount_base at the rate as of T
C2_COMMON = {
    "hist_settled_count": 1,
    "hist_settled_amount_base": 1000 * 1.10,
    "hist_days_late_mean": -4,
    "hist_days_late_std": 0,
    "hist_days_late_median_last10": -4,
    "hist_days_late_ewm": -4,
    "hist_days_late_last5_mean": -4,
    "hist_last5_late30_count": 0,
    "hist_last5_count": 1,
    "hist_days_late_amount_weighted": -4,
    "hist_share_late": 0,
    "hist_share_late_30": 0,
    "hist_amount_share_late": 0,
    "hist_amount_share_late_30": 0,
    "hist_partial_payment_share": 1,  # B2 paid in two
    "hist_days_late_trend": 0,
    "is_cold_start": 0,
    "hist_default_count": 0,
    "hist_outcome_count": 1,
    "hist_default_rate": 0,
    "hist_write_off_count": 0,
    "hist_month_end_payment_share": 0,
    "hist_quarter_end_payment_share": 0,
    "hist_mid_month_payment_share": 0,  # 02-13 is not within the 14th-16th
    "hist_modal_payment_weekday": TUE,
    "hist_invoice_count": 2,
    "amount_vs_typical": 2000 * 1.10 / ((1000 * 1.10 + 2000 * 1.10) / 2),
    "segment": "enterprise",
    "country": "FR",
    "collector_id": "K2",
    "customer_terms_days": 45,
    "hist_promise_count": 0,
    "hist_dispute_rate": 0,
    "hist_promise_kept_rate": NAN,
    "cust_open_count": 1,
    "cust_past_due_31_60_base": 0,
    "cust_past_due_61_90_base": 0,
    "cust_past_due_90_plus_base": 0,
    "currency": "EUR",
    "amount_base": 2000 * 1.10,
    "terms_days": 45,
    "due_weekday": SUN,
    "due_days_to_month_end": 0,
    "due_days_to_quarter_end": 0,
    "due_date": pd.Timestamp("2024-03-31"),
    **NO_DISPUTE,
    **NO_PROMISE,
}
EXPECTED[("B1", T1)] = {
    **C2_COMMON,
    "open_amount": 2000 - 100,
    "open_amount_base": 1900 * 1.08,
    "log_open_amount_base": math.log1p(1900 * 1.08),
    "share_paid": 0,
    "share_credited": 100 / 2000,
    "partial_payment_count": 0,
    "days_since_invoice": days("2024-02-15", T1),
    "days_to_due": days(T1, "2024-03-31"),
    "days_past_due": 0,
    "hist_payment_count": 2,
    "days_since_last_payment": days("2024-02-20", T1),
    "hist_weekday_concentration": 1,
    "tenure_days": days("2024-01-10", T1),
    "cust_open_amount_base": 1900 * 1.08,
    "cust_past_due_count": 0,
    "cust_max_days_past_due": 0,
    "cust_past_due_1_30_base": 0,
    "cust_past_due_share": 0,
    "credit_utilisation": 1900 * 1.08 / 50000,
    "hist_days_late_mean_censored": -4 / 1,
}
EXPECTED[("B1", T2)] = {
    **C2_COMMON,
    "open_amount": 2000 - 100 - 500,
    "open_amount_base": 1400 * 1.12,
    "log_open_amount_base": math.log1p(1400 * 1.12),
    "share_paid": 500 / 2000,
    "share_credited": 100 / 2000,
    "partial_payment_count": 1,
    "days_since_invoice": days("2024-02-15", T2),
    "days_to_due": -20,
    "days_past_due": 20,
    "hist_payment_count": 3,
    "days_since_last_payment": days("2024-04-05", T2),
    "hist_weekday_concentration": 2 / 3,  # Tue, Tue, Fri
    "tenure_days": days("2024-01-10", T2),
    "cust_open_amount_base": 1400 * 1.12,
    "cust_past_due_count": 1,
    "cust_max_days_past_due": 20,
    "cust_past_due_1_30_base": 1400 * 1.12,
    "cust_past_due_share": 1,
    "credit_utilisation": 1400 * 1.12 / 50000,
    "hist_days_late_mean_censored": (-4 + 20) / 2,
}

# C3: no settled invoice. Counts are 0, means are empty (NaN), never a value that looks like a good payer
COLD = {
    name: NAN
    for name in (
        "hist_days_late_mean",
        "hist_days_late_std",
        "hist_days_late_median_last10",
        "hist_days_late_ewm",
        "hist_days_late_last5_mean",
        "hist_days_late_amount_weighted",
        "hist_share_late",
        "hist_share_late_30",
        "hist_amount_share_late",
        "hist_amount_share_late_30",
        "hist_partial_payment_share",
        "hist_days_late_trend",
        "hist_default_rate",
    )
}
COLD.update(
    {
        "hist_settled_count": 0,
        "hist_settled_amount_base": 0,
        "hist_last5_late30_count": 0,
        "hist_last5_count": 0,
        "is_cold_start": 1,
        "hist_default_count": 0,
        "hist_outcome_count": 0,
        "hist_write_off_count": 0,
    }
)
EXPECTED[("K1", T1)] = {
    **usd(500),
    "amount_base": 700,
    "share_paid": 200 / 700,
    "share_credited": 0,
    "partial_payment_count": 1,
    "terms_days": days("2024-02-01", "2024-03-02"),
    "days_since_invoice": days("2024-02-01", T1),  # 30, 48
    "days_to_due": -18,
    "days_past_due": 18,
    "due_weekday": SAT,
    "due_days_to_month_end": days("2024-03-02", "2024-03-31"),
    "due_days_to_quarter_end": days("2024-03-02", "2024-03-31"),
    "due_date": pd.Timestamp("2024-03-02"),
    **NO_DISPUTE,
    **NO_PROMISE,
    "hist_promise_count": 0,
    **COLD,
    "hist_payment_count": 1,
    "days_since_last_payment": days("2024-03-14", T1),
    "hist_month_end_payment_share": 0,
    "hist_quarter_end_payment_share": 0,
    "hist_mid_month_payment_share": 1,  # the 14th
    "hist_weekday_concentration": 1,
    "hist_modal_payment_weekday": THU,
    "tenure_days": days("2024-02-01", T1),
    "hist_invoice_count": 2,
    "amount_vs_typical": 700 / ((700 + 300) / 2),
    "segment": "smb",
    "country": "DE",
    "collector_id": "K3",
    "customer_terms_days": 30,
    "cust_open_count": 2,
    "cust_open_amount_base": 500 + 300,
    "cust_past_due_count": 1,
    "cust_max_days_past_due": 18,
    "cust_past_due_1_30_base": 500,
    "cust_past_due_31_60_base": 0,
    "cust_past_due_61_90_base": 0,
    "cust_past_due_90_plus_base": 0,
    "cust_past_due_share": 500 / 800,
    "credit_utilisation": NAN,  # no credit limit
    "hist_days_late_mean_censored": 18 / 1,  # censoring: K1 is at least 18 days late
    "hist_dispute_rate": 0,
    "hist_promise_kept_rate": NAN,
}


# --------------------------------------------------------------------------- payment runs on business days
# A run is a distinct payment date. Calendars: C1 US (2024 holidays: 01-01, 01-15 MLK, 02-19 Presidents' Day,
# 12-25), C2 FR (04-01 Easter Monday), C3 DE. Business day of the month n = the n-th business day (a holiday or
# weekend counts as the business day before it). Last business days: 2023-12-29 (Fri), 01-31, 02-29, 03-29 (Fri).
def runs(n: int, weekdays: dict[int, int], month_end: int, concentration: float, modal: int, gaps: list[float]):
    shares = {f"hist_run_share_{d}": weekdays.get(i, 0) / n for i, d in enumerate(("mon", "tue", "wed", "thu"))}
    shares |= {f"hist_run_share_{d}": weekdays.get(i + 4, 0) / n for i, d in enumerate(("fri", "sat", "sun"))}
    last10 = gaps[-10:]
    return {
        "hist_run_count": n,
        **shares,
        "hist_month_end_run_share": month_end / n,
        "hist_quarter_end_run_share": 0,  # no run on 2023-12-29 or 2024-03-29
        "hist_business_day_of_month_concentration": concentration,
        "hist_modal_business_day_of_month": modal,
        "hist_run_gap_median": statistics.median(last10) if gaps else NAN,
        "hist_run_gap_cv": statistics.pstdev(last10) / statistics.mean(last10) if gaps else NAN,
    }


# C1 by T1: 12-28 Thu (19th business day of Dec: the 25th is a holiday), 01-29 Mon (19th: 01-01 and 01-15 are
# holidays), 01-30 Tue (20th), 02-05 Mon (3rd), 02-19 Mon (Presidents' Day: counts as Fri 02-16, the 12th),
# 02-29 Thu (20th, the last business day of February), 03-04 Mon (2nd), 03-08 Fri (6th), 03-15 Fri (11th).
# 19 and 20 twice each: concentration 2/9, modal the first of them, 19.
C1_GAPS_T1 = [32, 1, 6, 14, 10, 4, 4, 7]  # days between consecutive runs
RUNS = {
    ("C1", T1): runs(9, {MON: 4, TUE: 1, THU: 2, FRI: 2}, 1, 2 / 9, 19, C1_GAPS_T1)
    # median gap 6.5; the last run 03-15 is 5 days before T1: next expected 03-15 + 6.5, 1.5 days after T1
    | {"days_to_next_expected_run": 6.5 - 5},
    # + 03-23 Sat (counts as Fri 03-22, the 16th), 04-10 Wed (8th); gaps + 8, 18: median (7 + 8) / 2 = 7.5;
    # last run 04-10 is 10 days before T2: 04-10 + 7.5 is before T2, 04-10 + 2 x 7.5 = 5 days after T2
    ("C1", T2): runs(11, {MON: 4, TUE: 1, WED: 1, THU: 2, FRI: 2, SAT: 1}, 1, 2 / 11, 19, [*C1_GAPS_T1, 8, 18])
    | {"days_to_next_expected_run": 15 - 10},
    # C2 by T1: 02-13 Tue (9th business day of February), 02-20 Tue (14th); 1 gap of 7 days; last run 29 days
    # before T1: 02-20 + 5 x 7 = 6 days after T1
    ("C2", T1): runs(2, {TUE: 2}, 0, 1 / 2, 9, [7]) | {"days_to_next_expected_run": 35 - 29},
    # + 04-05 Fri (4th: Easter Monday 04-01 is a holiday in France); gaps 7, 45: median 26; last run 15 days
    # before T2: 04-05 + 26 = 11 days after T2. Indices 9, 14, 4 once each: the modal is the first, 4
    ("C2", T2): runs(3, {TUE: 2, FRI: 1}, 0, 1 / 3, 4, [7, 45]) | {"days_to_next_expected_run": 26 - 15},
    # C3: one run, 03-14 Thu (10th business day of March in Germany); no gap, so no expected next run
    ("C3", T1): runs(1, {THU: 1}, 0, 1, 10, []) | {"days_to_next_expected_run": NAN},
}
RUNS[("C3", T2)] = RUNS[("C3", T1)]
for (_invoice, _as_of), _expected in EXPECTED.items():
    _expected.update(RUNS[({"A": "C1", "B": "C2", "K": "C3"}[_invoice[0]], _as_of)])


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return Ledger.from_tables({name: pd.DataFrame(rows) for name, rows in LEDGER.items()})


@pytest.fixture(scope="module")
def rows(ledger) -> pd.DataFrame:
    return build_features(ledger, [T1, T2])


def _row(rows: pd.DataFrame, invoice_id: str, as_of: str) -> pd.Series:
    found = rows[(rows["invoice_id"] == invoice_id) & (rows["as_of"] == pd.Timestamp(as_of))]
    assert len(found) == 1, f"expected one row for {invoice_id} at {as_of}, got {len(found)}"
    return found.iloc[0]


def test_the_expectations_name_every_catalog_column():
    for key, expected in EXPECTED.items():
        assert set(expected) == set(SNAPSHOT_FEATURES), (key, set(SNAPSHOT_FEATURES) ^ set(expected))


def test_snapshot_rows_are_the_invoices_open_at_the_end_of_each_t(rows):
    got = {(r.invoice_id, r.as_of.strftime("%Y-%m-%d")) for r in rows[["invoice_id", "as_of"]].itertuples()}
    assert got == {
        ("A8", T1),
        ("A9", T1),
        ("A10", T1),
        ("A12", T1),
        ("B1", T1),
        ("K1", T1),
        ("K2", T1),
        ("A8", T2),
        ("A10", T2),
        ("A11", T2),
        ("B1", T2),
        ("K1", T2),
        ("K2", T2),
    }
    assert list(rows.columns) == ID_COLUMNS + list(SNAPSHOT_FEATURES)
    # sorted by (as_of, customer_id, invoice_id)
    assert rows[ID_COLUMNS].equals(rows.sort_values(["as_of", "customer_id", "invoice_id"])[ID_COLUMNS])


@pytest.mark.parametrize("key", list(EXPECTED), ids=[f"{i}@{t}" for i, t in EXPECTED])
def test_every_feature_of_the_row_equals_the_hand_value(rows, key):
    invoice_id, as_of = key
    row = _row(rows, invoice_id, as_of)
    assert row["customer_id"] == {"A": "C1", "B": "C2", "K": "C3"}[invoice_id[0]]
    wrong = []
    for name, want in EXPECTED[key].items():
        got = row[name]
        if isinstance(want, (str, pd.Timestamp)):
            ok = got == want
        else:
            ok = (math.isnan(want) and pd.isna(got)) or (
                not pd.isna(got) and math.isclose(float(got), float(want), rel_tol=1e-12, abs_tol=1e-9)
            )
        if not ok:
            wrong.append(f"{name}: got {got!r}, hand value {want!r}")
    assert not wrong, "\n".join(wrong)


def test_fx_rate_of_the_invoice_date_for_the_amount_and_of_t_for_the_open_amount(rows):
    t1, t2 = _row(rows, "B1", T1), _row(rows, "B1", T2)
    assert t1["amount_base"] == t2["amount_base"] == pytest.approx(2200.0)
    assert t1["open_amount_base"] == pytest.approx(1900 * 1.08)
    assert t2["open_amount_base"] == pytest.approx(1400 * 1.12)


def test_numeric_features_are_float_and_text_features_are_text(rows):
    for name in SNAPSHOT_FEATURES:
        if name in ("currency", "segment", "country", "collector_id"):
            assert rows[name].map(type).eq(str).all(), name
        elif name == "due_date":
            assert pd.api.types.is_datetime64_any_dtype(rows[name])
        else:
            assert rows[name].dtype == np.float64, name


# --------------------------------------------------------------------------- boundaries
def test_a_promise_is_outstanding_until_the_end_of_its_grace_and_then_kept_or_broken(ledger):
    """R1: promised 03-01, 3 days of grace -> it is decided at the end of 03-04 (no payment: broken)."""
    before = _row(build_features(ledger, "2024-03-03"), "A9", "2024-03-03")
    assert before["promise_outstanding"] == 1 and before["days_to_promised_date"] == -2
    assert before["promise_broken_count"] == 0 and before["hist_promise_count"] == 0
    on = _row(build_features(ledger, "2024-03-04"), "A9", "2024-03-04")
    assert on["promise_outstanding"] == 0 and np.isnan(on["days_to_promised_date"])
    assert on["promise_broken_count"] == 1 and on["hist_promise_count"] == 1
    assert on["hist_promise_kept_rate"] == 0


def test_a_dispute_is_open_on_the_day_it_opens_and_closed_on_the_day_it_is_resolved(ledger):
    frame = build_features(ledger, ["2024-03-09", "2024-03-10", "2024-04-04", "2024-04-05"])
    a8 = frame[frame["invoice_id"] == "A8"].set_index(
        frame.loc[frame["invoice_id"] == "A8", "as_of"].dt.strftime("%Y-%m-%d")
    )
    assert a8["dispute_open"].to_dict() == {"2024-03-09": 0, "2024-03-10": 1, "2024-04-04": 1, "2024-04-05": 0}
    assert a8.loc["2024-04-04", "dispute_age_days"] == days("2024-03-10", "2024-04-04")
    assert a8.loc["2024-03-10", "dispute_age_days"] == 0


def test_the_write_off_day_closes_the_invoice_and_counts_from_that_day(ledger):
    frame = build_features(ledger, ["2024-02-29", "2024-03-01"])
    assert "A4" in set(frame.loc[frame["as_of"] == "2024-02-29", "invoice_id"])
    assert "A4" not in set(frame.loc[frame["as_of"] == "2024-03-01", "invoice_id"])
    c1 = frame[frame["customer_id"] == "C1"].groupby("as_of")[["hist_write_off_count", "hist_default_count"]].max()
    assert c1.to_numpy().tolist() == [[0, 0], [1, 1]]
