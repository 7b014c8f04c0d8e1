"""The ledger's derived facts, pinned against obviously-correct per-invoice reference implementations.

Amounts are generated in whole cents so that "reaches its amount, to the cent" is exact in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.errors import LedgerError
from features.ledger.contract import VISIBLE_FROM
from features.ledger.io import ROW_COLUMN
from features.ledger.ledger import Ledger
from tests.support.ledgers import tiny_tables

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = pd.Timestamp("2024-01-01")
KINDS = ("payment", "credit_memo", "write_off")


def day(offset: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=int(offset))


# --------------------------------------------------------------------------- generated ledgers
@dataclass
class Invoice:
    invoice_id: str
    invoice_date: pd.Timestamp
    due_date: pd.Timestamp
    cents: int
    currency: str
    events: list[tuple[str, pd.Timestamp, int]]  # (kind, date, cents)


@st.composite
def invoices_with_events(draw) -> list[Invoice]:
    invoices = []
    for i in range(draw(st.integers(1, 6))):
        issued = draw(st.integers(0, 120))
        terms = draw(st.sampled_from([0, 15, 30, 45, 60]))
        cents = draw(st.integers(1, 500_000))
        events = []
        # ties are where rules bite: the same day as an earlier event, the due date, the default horizons
        anchors = [issued, issued + terms, *(issued + terms + d for d in (29, 30, 90, 91, 120))]
        for _ in range(draw(st.integers(0, 5))):
            kind = draw(st.sampled_from(KINDS))
            earlier = [int((d - START).days) for _, d, _ in events]
            when = draw(st.one_of(st.integers(issued, issued + 250), st.sampled_from(anchors + earlier)))
            # shares that often add up to the amount exactly, plus arbitrary amounts and exact remainders
            share = draw(st.sampled_from(["quarter", "half", "full", "rest", "cent", "any"]))
            done = sum(c for _, _, c in events)
            amount = {
                "quarter": cents // 4,
                "half": cents // 2,
                "full": cents,
                "rest": cents - done,
                "cent": 1,
                "any": draw(st.integers(1, cents)),
            }[share]
            events.append((kind, day(when), max(1, amount)))
        currency = draw(st.sampled_from(["USD", "EUR"]))
        invoices.append(Invoice(f"I{i}", day(issued), day(issued + terms), cents, currency, events))
    return invoices


def frames_of(invoices: list[Invoice]) -> dict[str, pd.DataFrame]:
    """Contract frames (typed values, not text) for generated invoices."""
    payments, adjustments = [], []
    for inv in invoices:
        for n, (kind, when, cents) in enumerate(inv.events):
            if kind == "payment":
                payments.append(
                    {
                        "payment_id": f"{inv.invoice_id}-P{n}",
                        "invoice_id": inv.invoice_id,
                        "payment_date": when,
                        "amount": cents / 100,
                    }
                )
            else:
                adjustments.append(
                    {
                        "adjustment_id": f"{inv.invoice_id}-A{n}",
                        "invoice_id": inv.invoice_id,
                        "date": when,
                        "amount": cents / 100,
                        "kind": kind,
                    }
                )
    frames = {
        "customers": pd.DataFrame([{"customer_id": "C1", "country": "US", "currency": "USD"}]),
        "invoices": pd.DataFrame(
            [
                {
                    "invoice_id": inv.invoice_id,
                    "customer_id": "C1",
                    "invoice_date": inv.invoice_date,
                    "due_date": inv.due_date,
                    "amount": inv.cents / 100,
                    "currency": inv.currency,
                }
                for inv in invoices
            ]
        ),
        "payments": pd.DataFrame(payments, columns=["payment_id", "invoice_id", "payment_date", "amount"]),
        "adjustments": pd.DataFrame(adjustments, columns=["adjustment_id", "invoice_id", "date", "amount", "kind"]),
        "fx_rates": pd.DataFrame([{"date": START, "currency": "EUR", "rate_to_base": 1.1}]),
    }
    return frames


# --------------------------------------------------------------------------- the reference
def reference_settlement(inv: Invoice, default_days: int, known_until: pd.Timestamp) -> dict:
    """Walk the invoice's events day by day: settled on the first day payments + credit memos reach the amount;
    written off by a write-off on a day it was not (yet) settled; default = the earlier of due + horizon (if not
    settled by then) and the write-off."""
    paid = sum(c for k, _, c in inv.events if k == "payment")
    credited = sum(c for k, _, c in inv.events if k == "credit_memo")
    written_off = sum(c for k, _, c in inv.events if k == "write_off")
    settle = write_off = None
    reduced = 0
    for when in sorted({d for _, d, _ in inv.events}):
        todays = [(k, c) for k, d, c in inv.events if d == when]
        reduced += sum(c for k, c in todays if k != "write_off")
        if reduced >= inv.cents:
            settle = when
            break
        if any(k == "write_off" for k, _ in todays):
            write_off = when
            break
    default_by = inv.due_date + pd.Timedelta(days=default_days)
    if write_off is not None:
        default = min(default_by, write_off)
    elif settle is None or settle > default_by:
        default = default_by
    else:
        default = None
    return {
        "settle_date": settle,
        "write_off_date": write_off,
        "close_date": settle if settle is not None else write_off,
        "default_date": default,
        "is_default": default is not None and default <= known_until,
        "paid_cents": paid,
        "credited_cents": credited,
        "written_off_cents": written_off,
    }


def last_fact(invoices: list[Invoice]) -> pd.Timestamp:
    return max([inv.invoice_date for inv in invoices] + [d for inv in invoices for _, d, _ in inv.events])


def nat_to_none(value):
    return None if pd.isna(value) else pd.Timestamp(value)


def cents(value: float) -> int:
    return round(value * 100)


# --------------------------------------------------------------------------- settlement
@FAST
@given(
    invoices=invoices_with_events(),
    default_days=st.sampled_from([30, 90, 120]),
    known_offset=st.one_of(st.none(), st.integers(0, 500)),
    cutoffs=st.lists(st.integers(-10, 400), max_size=3),
)
def test_settlement_and_open_amounts_match_reference(invoices, default_days, known_offset, cutoffs):
    known_until = day(known_offset) if known_offset is not None else None
    ledger = Ledger.from_tables(frames_of(invoices), default_days=default_days, known_until=known_until)
    expected_known = known_until if known_until is not None else last_fact(invoices)
    assert ledger.known_until == expected_known
    status = ledger.settlement.set_index("invoice_id")
    assert len(status) == len(invoices)
    reference = {inv.invoice_id: reference_settlement(inv, default_days, expected_known) for inv in invoices}
    for inv in invoices:
        ref, row = reference[inv.invoice_id], status.loc[inv.invoice_id]
        for column in ("settle_date", "write_off_date", "close_date", "default_date"):
            assert nat_to_none(row[column]) == ref[column], (inv, column)
        assert bool(row["is_default"]) == ref["is_default"], inv
        assert cents(row["paid_amount"]) == ref["paid_cents"]
        assert cents(row["credited_amount"]) == ref["credited_cents"]
        assert cents(row["written_off_amount"]) == ref["written_off_cents"]

    # open_amounts(T) = amount - payments and adjustments dated <= T, for invoices issued <= T not closed by T
    for at in cutoffs:
        cutoff = day(at)
        got = ledger.open_amounts(cutoff).set_index("invoice_id")
        expected = {}
        for inv in invoices:
            close = reference[inv.invoice_id]["close_date"]
            if inv.invoice_date > cutoff or (close is not None and close <= cutoff):
                continue
            reduced = sum(c for _, d, c in inv.events if d <= cutoff)
            expected[inv.invoice_id] = max(inv.cents - reduced, 0)
        assert sorted(got.index) == sorted(expected)
        for invoice_id, open_cents in expected.items():
            assert cents(got.loc[invoice_id, "open_amount"]) == open_cents
        assert (got["open_amount"] > 0).all()  # an open invoice always has something left to pay

    # the view as of T derives its status from what was visible at T only: the reference on the visible events
    if cutoffs:
        cutoff = day(cutoffs[0])
        view = ledger.as_of(cutoff).settlement.set_index("invoice_id")
        visible = [
            Invoice(
                inv.invoice_id,
                inv.invoice_date,
                inv.due_date,
                inv.cents,
                inv.currency,
                [e for e in inv.events if e[1] <= cutoff],
            )
            for inv in invoices
            if inv.invoice_date <= cutoff
        ]
        assert sorted(view.index) == sorted(inv.invoice_id for inv in visible)
        for inv in visible:
            ref = reference_settlement(inv, default_days, min(cutoff, expected_known))
            for column in ("close_date", "default_date"):
                assert nat_to_none(view.loc[inv.invoice_id, column]) == ref[column], (inv, column)
            assert bool(view.loc[inv.invoice_id, "is_default"]) == ref["is_default"]
            assert not ref["is_default"] or ref["default_date"] <= cutoff  # no default is known before it happens


def test_settlement_tiny_ledger_by_hand():
    ledger = Ledger.from_tables({k: pd.DataFrame(v) for k, v in tiny_tables().items()})
    status = ledger.settlement.set_index("invoice_id")
    assert status.loc["I1", "settle_date"] == pd.Timestamp("2024-02-20")  # 600 + 400
    assert status.loc["I3", "settle_date"] == pd.Timestamp("2024-03-20")  # 1500 paid + 500 credit memo
    assert pd.isna(status.loc["I2", "close_date"]) and status.loc["I2", "is_default"]  # due 03-02, +90 <= 09-01
    assert status.loc["I4", "write_off_date"] == pd.Timestamp("2024-09-01")
    assert status.loc["I4", "default_date"] == pd.Timestamp("2024-07-14")  # due + 90 comes before the write-off


def test_settlement_with_no_payments_or_adjustments():
    frames = {k: pd.DataFrame(v) for k, v in tiny_tables().items() if k in ("customers", "invoices")}
    frames["payments"] = pd.DataFrame(columns=["payment_id", "invoice_id", "payment_date", "amount"])
    status = Ledger.from_tables(frames).settlement
    assert status["settle_date"].isna().all() and status["close_date"].isna().all()
    assert (status["default_date"] == status["due_date"] + pd.Timedelta(days=90)).all()


def test_default_horizon_is_configurable():
    frames = {k: pd.DataFrame(v) for k, v in tiny_tables().items()}
    short = Ledger.from_tables(frames, default_days=10).settlement.set_index("invoice_id")
    # I1 is due 2024-01-31 and settled 2024-02-20: 20 days late, in default under a 10-day horizon only
    assert short.loc["I1", "default_date"] == pd.Timestamp("2024-02-10") and short.loc["I1", "is_default"]
    normal = Ledger.from_tables(frames).settlement.set_index("invoice_id")
    assert pd.isna(normal.loc["I1", "default_date"]) and not normal.loc["I1", "is_default"]


# --------------------------------------------------------------------------- as_of
@st.composite
def full_ledgers(draw) -> dict[str, pd.DataFrame]:
    """Generated invoices and events plus disputes, promises and fx rates, as contract frames."""
    invoices = draw(invoices_with_events())
    frames = frames_of(invoices)
    disputes, promises = [], []
    for inv in invoices:
        issued = int((inv.invoice_date - START).days)
        for n in range(draw(st.integers(0, 2))):
            opened = issued + draw(st.integers(0, 100))
            resolved = draw(st.one_of(st.none(), st.integers(0, 100)))
            disputes.append(
                {
                    "dispute_id": f"{inv.invoice_id}-D{n}",
                    "invoice_id": inv.invoice_id,
                    "opened_date": day(opened),
                    "resolved_date": day(opened + resolved) if resolved is not None else pd.NaT,
                    "reason": "price",
                }
            )
        for n in range(draw(st.integers(0, 2))):
            created = issued + draw(st.integers(0, 100))
            promises.append(
                {
                    "promise_id": f"{inv.invoice_id}-T{n}",
                    "invoice_id": inv.invoice_id,
                    "created_date": day(created),
                    "promised_date": day(created + draw(st.integers(0, 30))),
                    "amount": inv.cents / 100,
                }
            )
    frames["disputes"] = pd.DataFrame(
        disputes, columns=["dispute_id", "invoice_id", "opened_date", "resolved_date", "reason"]
    )
    frames["promises"] = pd.DataFrame(
        promises, columns=["promise_id", "invoice_id", "created_date", "promised_date", "amount"]
    )
    fx_days = draw(st.lists(st.integers(0, 400), min_size=1, max_size=6, unique=True))
    frames["fx_rates"] = pd.DataFrame(
        {"date": [day(d) for d in fx_days], "currency": "EUR", "rate_to_base": [1 + d / 1000 for d in fx_days]}
    )
    return frames


def same_ledger(a: Ledger, b: Ledger) -> None:
    """Same facts (every table, row for row) and same known_until (so also the same fingerprint)."""
    assert a.known_until == b.known_until
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        left, right = a.tables[name].reset_index(drop=True), b.tables[name].reset_index(drop=True)
        assert left.equals(right), (name, left, right)  # same columns, dtypes and values (NaT == NaT)


def _changed(values: pd.Series, row: int):
    """A different value for one cell (missing cells get a value)."""
    value = values.iloc[row]
    if pd.api.types.is_datetime64_any_dtype(values):
        return START if pd.isna(value) else value + pd.Timedelta(days=1)
    if pd.api.types.is_float_dtype(values):
        return 1.0 if pd.isna(value) else round(value + 0.01, 2)
    return f"{value}x"


def check_as_of(ledger: Ledger, at: int, later: int) -> None:
    cutoff = day(at)
    view = ledger.as_of(cutoff)
    assert view.known_until == min(cutoff, ledger.known_until)
    for name, column in VISIBLE_FROM.items():
        # nothing from the future ...
        assert (view.tables[name][column] <= cutoff).all(), name
        # ... and nothing from the past lost (generated children are never dated before their invoice)
        assert len(view.tables[name]) == int((ledger.tables[name][column] <= cutoff).sum()), name
    assert not (view.disputes["resolved_date"] > cutoff).any()
    # a resolution on or before T is kept
    original = ledger.disputes.set_index("dispute_id")["resolved_date"]
    for dispute_id, value in view.disputes.set_index("dispute_id")["resolved_date"].items():
        known = original[dispute_id]
        assert (pd.isna(value) and (pd.isna(known) or known > cutoff)) or value == known
    pd.testing.assert_frame_equal(view.customers, ledger.customers)
    # idempotent, and as_of(T1).as_of(T2) == as_of(min(T1, T2))
    same_ledger(view.as_of(cutoff), view)
    same_ledger(view.as_of(day(later)), ledger.as_of(day(min(at, later))))


def check_fingerprint(ledger: Ledger, seed: int, data: st.DataObject) -> None:
    before = ledger.fingerprint()
    rng = np.random.default_rng(seed)
    shuffled = {
        name: frame.iloc[rng.permutation(len(frame)), rng.permutation(frame.shape[1])]
        for name, frame in ledger.tables.items()
    }
    assert Ledger(shuffled, known_until=ledger.known_until).fingerprint() == before
    # change one fact (any table, row and contract column) and the fingerprint changes
    name = data.draw(st.sampled_from(sorted(n for n, f in ledger.tables.items() if len(f))))
    frame = ledger.tables[name].copy()
    row = data.draw(st.integers(0, len(frame) - 1))
    column = data.draw(st.sampled_from([c for c in frame.columns if c != ROW_COLUMN]))
    frame.iloc[row, frame.columns.get_loc(column)] = _changed(frame[column], row)
    changed = Ledger({**ledger.tables, name: frame}, known_until=ledger.known_until)
    assert changed.fingerprint() != before, (name, column, row)


@FAST
@given(
    frames=full_ledgers(),
    at=st.integers(-10, 500),
    later=st.integers(-10, 500),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_as_of_and_fingerprint_properties(frames, at, later, seed, data):
    """as_of(T) shows exactly the facts dated <= T, is idempotent and composes as min; the fingerprint ignores
    row and column order and changes with any fact. (One test so that each generated ledger is typed once.)"""
    ledger = Ledger.from_tables(frames)
    check_as_of(ledger, at, later)
    check_fingerprint(ledger, seed, data)


def test_as_of_accepts_text_and_timestamps_with_time_of_day():
    ledger = Ledger.from_tables({k: pd.DataFrame(v) for k, v in tiny_tables().items()})
    a = ledger.as_of("2024-02-10")
    b = ledger.as_of(pd.Timestamp("2024-02-10 23:59:59"))
    same_ledger(a, b)
    assert a.fingerprint() == b.fingerprint()
    assert list(a.payments["payment_id"]) == ["P1"]  # dated 2024-02-10 itself: visible at the end of that day
    with pytest.raises(LedgerError):
        ledger.as_of("not a date")
    # a moment with a time zone is the date on its own wall clock (late evening in New York is still that day there,
    # already the next day in UTC): converting to UTC first would show a collector tomorrow's payments
    evening = pd.Timestamp("2024-02-10 23:30", tz="America/New_York")
    assert ledger.as_of(evening).known_until == pd.Timestamp("2024-02-10")


def test_as_of_blanks_resolution_after_t():
    ledger = Ledger.from_tables({k: pd.DataFrame(v) for k, v in tiny_tables().items()})
    view = ledger.as_of("2024-03-10")  # D1 opened 03-01, resolved 03-18
    assert len(view.disputes) == 1 and pd.isna(view.disputes["resolved_date"].iloc[0])
    assert ledger.disputes["resolved_date"].iloc[0] == pd.Timestamp("2024-03-18")  # the original is untouched
    assert ledger.as_of("2024-03-18").disputes["resolved_date"].iloc[0] == pd.Timestamp("2024-03-18")


# --------------------------------------------------------------------------- fingerprint
def test_fingerprint_changes_with_a_dropped_row_and_with_known_until():
    frames = {k: pd.DataFrame(v) for k, v in tiny_tables().items()}
    base = Ledger.from_tables(frames)
    fewer = Ledger.from_tables({**frames, "payments": frames["payments"].iloc[1:]}, known_until=base.known_until)
    assert fewer.fingerprint() != base.fingerprint()
    assert base.as_of("2024-03-01").fingerprint() != base.fingerprint()


# --------------------------------------------------------------------------- fx
@FAST
@given(
    rates=st.lists(
        st.tuples(st.sampled_from(["EUR", "GBP"]), st.integers(0, 300), st.integers(500, 2000)),
        min_size=1,
        max_size=12,
        unique_by=lambda r: (r[0], r[1]),
    ),
    asks=st.lists(
        st.tuples(st.sampled_from(["EUR", "GBP", "USD", "JPY"]), st.integers(-20, 320)), min_size=1, max_size=12
    ),
)
def test_fx_rate_is_latest_rate_on_or_before_the_date(rates, asks):
    fx = pd.DataFrame(
        {
            "date": pd.Series([day(d) for _, d, _ in rates], dtype="datetime64[s]"),
            "currency": [c for c, _, _ in rates],
            "rate_to_base": [r / 1000 for _, _, r in rates],
        }
    )
    # fx_rate reads nothing else
    ledger = Ledger({"fx_rates": fx}, base_currency="USD", known_until=pd.Timestamp("2100-01-01"))
    got = ledger.fx_rate(pd.Series([c for c, _ in asks]), pd.Series([day(d) for _, d in asks]))
    for (currency, offset), value in zip(asks, got, strict=True):
        if currency == "USD":
            expected = 1.0
        else:
            mine = sorted((d, r) for c, d, r in rates if c == currency)
            if not mine:
                expected = np.nan  # no rate at all
            else:
                before = [r for d, r in mine if d <= offset]
                expected = before[-1] / 1000 if before else np.nan  # before the first rate: unknown, never a later one
        np.testing.assert_equal(value, expected)


def test_fx_rate_tiny():
    ledger = Ledger.from_tables({k: pd.DataFrame(v) for k, v in tiny_tables().items()})
    dates = pd.Series(pd.to_datetime(["2024-01-31", "2024-02-01", "2024-06-01", "2024-01-31"]))
    got = ledger.fx_rate(pd.Series(["EUR", "EUR", "EUR", "USD"]), dates)
    np.testing.assert_allclose(got, [1.10, 1.08, 1.08, 1.0])


def test_fx_rate_edges():
    ledger = Ledger.from_tables({k: pd.DataFrame(v) for k, v in tiny_tables().items()})
    dates = pd.Series([pd.NaT, pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-01"), pd.NaT])
    got = ledger.fx_rate(pd.Series(["EUR", "eur", " USD ", "USD"]), dates)
    np.testing.assert_equal(got, [np.nan, 1.08, 1.0, 1.0])  # no date, no rate; codes as the validator reads them
    np.testing.assert_equal(ledger.fx_rate(pd.Series(["USD"]), pd.Series([pd.Timestamp("2024-03-01")])), [1.0])
    np.testing.assert_equal(ledger.fx_rate(pd.Series([], dtype=str), pd.Series([], dtype="datetime64[s]")), [])
