"""POST /v1/score with invoices given in the request: validated like a ledger sync, merged in memory with the stored
history of their customers, scored like `payrisk score` would score them inside the ledger, and nothing stored."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate, write_ledger
from serving.api.schemas.common import decimal_text
from serving.services.scoring_service import ModelHolder
from serving.store.models import LEDGER_MODELS, AuditEntry, LedgerState, Score, ScoringRun
from tests.support.http import headers

CHILDREN = ("payments", "adjustments", "disputes", "promises")
SCORE_VALUES = [
    "customer_id",
    "as_of",
    "open_amount",
    "currency",
    "open_amount_base",
    "days_past_due",
    "pay_date_median_within_horizon",
    "pay_date_p10",
    "pay_date_p50",
    "pay_date_p90",
    *[f"p_pay_week_{k}" for k in range(1, 14)],
    "p_pay_later",
    "p_default",
    "expected_loss",
    "reasons",
]


def text_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows as a client would send them: dates as YYYY-MM-DD, missing as null."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out.astype(object).where(out.notna(), None).to_dict("records")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A simulated ledger and the rows held out of the store: two invoices open both 20 days before the end and at
    the end, of each of three customers (with their payments, ...), and one customer with all its rows."""
    tables = simulate(30, 10, seed=11)
    directory = tmp_path_factory.mktemp("ledger")
    write_ledger(tables, directory)
    full = Ledger.load(directory)
    as_of = full.known_until - pd.Timedelta(days=20)
    open_now = full.open_amounts(as_of)
    open_now = open_now[open_now["invoice_id"].isin(full.open_amounts(full.known_until)["invoice_id"])]
    counts = open_now["customer_id"].value_counts()
    customers = counts[counts >= 2].index.tolist()
    assert len(customers) >= 4
    new_customer = customers[3]
    held_ids = [i for c in customers[:3] for i in open_now.loc[open_now["customer_id"] == c, "invoice_id"][:2]]
    held_ids += tables["invoices"].loc[tables["invoices"]["customer_id"] == new_customer, "invoice_id"].tolist()
    held = {
        "invoices": tables["invoices"][tables["invoices"]["invoice_id"].isin(held_ids)],
        "customers": tables["customers"][tables["customers"]["customer_id"] == new_customer],
    }
    for name in CHILDREN:
        held[name] = tables[name][tables[name]["invoice_id"].isin(held_ids)]
    stored = {
        name: frame[~frame.index.isin(held[name].index)] if name in held else frame for name, frame in tables.items()
    }
    return {
        "directory": directory,
        "full": full,
        "as_of": as_of,
        "held": held,
        "stored": stored,
        "new_customer": new_customer,
        "held_ids": held_ids,
    }


@pytest.fixture(params=["earlier", "latest"])
def when(request, book) -> tuple[dict, pd.Timestamp | None]:
    """The as-of part of a request body and the date `payrisk score` is asked for (None: --as-of latest). At the
    latest date the service reuses the stored invoices' settlement; before it, the ledger is cut first."""
    if request.param == "latest":
        return {}, None
    return {"as_of": str(book["as_of"].date())}, book["as_of"]


@pytest.fixture
def scoring_client(client, keys, bundle, book, settings):
    """The app with the stored part of the book and a real ModelHolder holding the small bundle."""
    holder = ModelHolder(settings, load=False)
    holder.bundle = bundle
    client.app.state.model_holder = holder
    body = {name: text_rows(frame) for name, frame in book["stored"].items()}
    response = client.post("/v1/ledger", json=body, headers=headers(keys, "admin"))
    assert response.status_code == 200, response.text
    return client


def given(book: dict) -> dict:
    return {name: text_rows(frame) for name, frame in book["held"].items() if len(frame)}


def table_counts(sessions) -> dict[str, int]:
    with sessions() as session:
        counts = {
            name: session.scalar(select(func.count()).select_from(model)) for name, model in LEDGER_MODELS.items()
        }
        for model in (Score, ScoringRun, AuditEntry):
            counts[model.__tablename__] = session.scalar(select(func.count()).select_from(model))
        counts["ledger_revision"] = session.scalar(select(LedgerState.revision))
    return counts


def expected_scores(bundle, ledger: Ledger, as_of: pd.Timestamp | None, invoice_ids: list[str]) -> pd.DataFrame:
    """What `payrisk score --ledger DIR --as-of T` gives for these invoices (T None: latest)."""
    scores = bundle.score(ledger, ledger.known_until if as_of is None else as_of)
    return scores[scores["invoice_id"].isin(invoice_ids)]


def as_frame(scores: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(scores)
    frame["reasons"] = frame["reasons"].map("; ".join)
    return frame.set_index("invoice_id").sort_index()


def assert_same_scores(got: list[dict], expected: pd.DataFrame) -> None:
    want = expected.copy()
    for column in ("as_of", "pay_date_median_within_horizon", "pay_date_p10", "pay_date_p50", "pay_date_p90"):
        want[column] = want[column].dt.strftime("%Y-%m-%d").astype(object).where(want[column].notna(), None)
    for column in ("open_amount", "open_amount_base"):  # money: decimal strings (4 decimals at most)
        want[column] = want[column].map(decimal_text).astype(object)
    want = want.set_index("invoice_id").sort_index()
    frame = as_frame(got)
    assert frame.index.tolist() == want.index.tolist()
    pd.testing.assert_frame_equal(
        frame[SCORE_VALUES], want[SCORE_VALUES].astype(frame[SCORE_VALUES].dtypes), check_exact=True
    )
    # the rank among the returned invoices keeps `payrisk score`'s order
    assert sorted(frame["priority_rank"]) == list(range(1, len(frame) + 1))
    assert frame["priority_rank"].sort_values().index.tolist() == want["priority_rank"].sort_values().index.tolist()


def test_given_invoices_score_as_if_they_were_in_the_ledger(scoring_client, keys, bundle, book, sessions, when):
    before = table_counts(sessions)
    as_of_body, as_of = when
    response = scoring_client.post("/v1/score", json=as_of_body | given(book), headers=headers(keys, "data_scientist"))
    assert response.status_code == 200, response.text
    result = response.json()
    full = Ledger.load(book["directory"])
    expected = expected_scores(bundle, full, as_of, book["held_ids"])
    assert len(expected) >= 7  # the six held open invoices and the held customer's open ones
    assert_same_scores(result["scores"], expected)
    assert sorted(result["not_open"]) == sorted(set(book["held_ids"]) - set(expected["invoice_id"]))
    assert result["as_of"] == str((as_of or full.known_until).date()) and result["ledger_fingerprint"]
    assert table_counts(sessions) == before  # nothing written: no ledger row, score, run or audit entry


def test_stored_invoices_asked_by_id_score_like_the_whole_book(scoring_client, keys, bundle, book, when):
    as_of_body, as_of = when
    stored = Ledger.from_tables(book["stored"])
    open_ids = stored.open_amounts(as_of or stored.known_until)["invoice_id"].tolist()[::7][:10]
    response = scoring_client.post(
        "/v1/score", json=as_of_body | {"invoice_ids": open_ids}, headers=headers(keys, "data_scientist")
    )
    assert response.status_code == 200, response.text
    assert_same_scores(response.json()["scores"], expected_scores(bundle, stored, as_of, open_ids))


def test_given_rows_that_repeat_or_change_stored_invoices(scoring_client, keys, bundle, book, when):
    """A given row replaces the stored row with its key, as a sync would; an unchanged one changes nothing; a given
    payment settles a stored invoice (which changes what its customer owes)."""
    as_of_body, as_of = when
    stored = book["stored"]
    before = Ledger.from_tables(stored)
    open_ids = before.open_amounts(as_of or before.known_until)["invoice_id"].tolist()[::5][:8]
    rows = stored["invoices"][stored["invoices"]["invoice_id"].isin(open_ids)]
    changed = rows.iloc[:2].assign(amount=rows["amount"].iloc[:2] * 3)
    at_end = before.open_amounts(before.known_until)
    paid = at_end[at_end["customer_id"].isin(rows["customer_id"].iloc[2:]) & ~at_end["invoice_id"].isin(open_ids)]
    payment = pd.DataFrame(
        {
            "payment_id": ["PAY-GIVEN"],
            "invoice_id": [paid["invoice_id"].iloc[0]],
            "payment_date": [as_of or before.known_until],
            "amount": [paid["open_amount"].iloc[0]],
        }
    )
    body = as_of_body | {"invoices": text_rows(pd.concat([changed, rows.iloc[2:]])), "payments": text_rows(payment)}
    response = scoring_client.post("/v1/score", json=body, headers=headers(keys, "data_scientist"))
    assert response.status_code == 200, response.text
    tables = dict(stored)
    tables["invoices"] = stored["invoices"].copy()
    tables["invoices"].loc[changed.index, "amount"] = changed["amount"]
    tables["payments"] = pd.concat([stored["payments"], payment], ignore_index=True)
    after = Ledger.from_tables(tables)
    assert_same_scores(response.json()["scores"], expected_scores(bundle, after, as_of, open_ids))


def test_a_bad_given_row_is_a_422_naming_its_row(scoring_client, keys, book, sessions):
    before = table_counts(sessions)
    rows = given(book)["invoices"][:3]
    rows[1] = rows[1] | {"due_date": "2024-02-30"}
    rows[2] = rows[2] | {"customer_id": "NOBODY"}
    response = scoring_client.post("/v1/score", json={"invoices": rows}, headers=headers(keys, "data_scientist"))
    assert response.status_code == 422, response.text
    problems = {(p["file"], p["row"], p["column"], p["rule"]) for p in response.json()["problems"]}
    assert ("invoices", 2, "due_date", "parse") in problems
    assert ("invoices", 3, "customer_id", "orphan") in problems
    after = table_counts(sessions)
    assert after == before | {"audit_log": before["audit_log"] + 1}  # nothing stored but the rejection's audit entry
    with sessions() as session:
        entry = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    assert (entry.action, entry.entity_id, entry.after["status"]) == ("request.rejected", "POST /v1/score", 422)


def test_an_unknown_customer_must_be_given(scoring_client, keys, book):
    held = given(book)
    new = [r for r in held["invoices"] if r["customer_id"] == book["new_customer"]]
    response = scoring_client.post(
        "/v1/score", json={"as_of": str(book["as_of"].date()), "invoices": new}, headers=headers(keys, "data_scientist")
    )
    assert response.status_code == 422
    assert {p["rule"] for p in response.json()["problems"]} == {"orphan"}
    with_customer = {"as_of": str(book["as_of"].date()), "invoices": new, "customers": held["customers"]}
    response = scoring_client.post("/v1/score", json=with_customer, headers=headers(keys, "data_scientist"))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"invoices": [], "payments": []},
        {"payments": [{"payment_id": "P", "invoice_id": "I", "payment_date": "2024-01-01", "amount": 1}]},
        {"invoices": [{"invoice_id": "I"}], "invoice_ids": ["I"]},
    ],
)
def test_one_way_of_asking_at_a_time(client, keys, tiny_loaded, bundle, settings, body):
    holder = ModelHolder(settings, load=False)
    holder.bundle = bundle
    client.app.state.model_holder = holder
    response = client.post("/v1/score", json=body, headers=headers(keys, "data_scientist"))
    assert response.status_code == 422, response.text


def test_given_invoices_scored_after_the_last_fact_are_refused(scoring_client, keys, book, sessions):
    """Issue 10: an as_of after the last fact of the stored ledger and of the given rows is a 422 naming that date;
    nothing is stored."""
    before = table_counts(sessions)
    last_fact = book["full"].known_until  # the held rows hold the book's latest facts, or the stored rows do
    later = str((last_fact + pd.Timedelta(days=3)).date())
    body = {"as_of": later} | given(book)
    response = scoring_client.post("/v1/score", json=body, headers=headers(keys, "data_scientist"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(
        f"as_of {later} is after the ledger's last fact ({last_fact.date()}); sync the ledger"
    )
    assert table_counts(sessions)["ledger_revision"] == before["ledger_revision"]
