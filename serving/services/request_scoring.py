"""Scoring on request (POST /v1/score), nothing stored: the stored open book or some of it, or invoices given in
the request merged in memory with the stored history of their customers.

Features are per customer (features/engine.py), so only the customers involved are scored: their rows are taken
from the cached ledger through its per-customer index (serving.services.ledger_index), never the whole book. Given
rows are
validated with the rules of a ledger sync (serving.store.ledger.sync.check_batches) against what the store holds; a
given row replaces the stored row with its key, as a sync would. Scores are `payrisk score`'s columns; the
priority rank is the rank among the invoices returned, in the order `payrisk score` ranks them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from features.errors import Problem
from features.ledger.contract import TABLES
from features.ledger.io import ROW_COLUMN
from features.ledger.ledger import Ledger, to_date
from serving.services.ledger_index import CHILD_TABLES, LedgerView, merged_settlement, restrict, with_settlement
from serving.services.scoring_runs import refuse_after_ledger
from serving.store.ledger.sync import check_batches
from serving.store.models import TABLE_KEYS


@dataclass
class RequestScores:
    as_of: pd.Timestamp
    scores: pd.DataFrame
    """`payrisk score` columns, one row per asked invoice open at `as_of`."""
    not_open: list[str] = field(default_factory=list)
    """Asked invoices with no score: not open at the end of `as_of` (not issued yet, settled, written off) or
    unknown."""
    warnings: list[Problem] = field(default_factory=list)


def score_stored(
    view: LedgerView,
    bundle,
    as_of: object | None,
    invoice_ids: list[str] | None = None,
    customer_ids: list[str] | None = None,
) -> RequestScores:
    """Scores of stored open invoices: all of them, or those of the given invoices and/or customers (both filters
    apply when both are given). Only the customers asked about are scored."""
    ledger = view.ledger
    cutoff = ledger.known_until if as_of is None else to_date(as_of)
    refuse_after_ledger(cutoff, ledger.known_until)
    if invoice_ids is None:
        if customer_ids is None:
            return RequestScores(cutoff, rerank(bundle.score(ledger, cutoff)))
        customers = {c for c in customer_ids if c in view.rows.code}
    elif customer_ids is None:
        customers = view.rows.customers_of_invoices(invoice_ids)
    else:
        customers = {c for c in customer_ids if c in view.rows.code} & view.rows.customers_of_invoices(invoice_ids)
    scores = (
        score_invoices(bundle, restrict(ledger, view.rows, customers, view.settlement), cutoff, invoice_ids)
        if customers
        else _no_scores()
    )
    missing = [] if invoice_ids is None else _not_in(invoice_ids, scores)
    return RequestScores(cutoff, rerank(scores), missing)


def score_given(
    connection: Connection,
    view: LedgerView,
    bundle,
    as_of: object | None,
    batches: dict[str, pd.DataFrame],
    base_currency: str = "USD",
) -> RequestScores:
    """Scores of the invoices given in `batches` (text cells with `_row`, as from `records_frame`), computed from the
    stored history of their customers plus the given rows. Raises BatchRejected (422) listing every bad row."""
    warnings, kept = check_batches(connection, batches, {name: name for name in batches}, base_currency)
    ledger = merged_ledger(view, kept)
    cutoff = ledger.known_until if as_of is None else to_date(as_of)
    refuse_after_ledger(cutoff, ledger.known_until)  # the stored ledger's last fact, or a later given row's
    asked = kept["invoices"]["invoice_id"].astype("str").tolist()
    scores = score_invoices(bundle, ledger, cutoff, asked)
    return RequestScores(cutoff, rerank(scores), _not_in(asked, scores), warnings)


def score_invoices(bundle, ledger: Ledger, cutoff: pd.Timestamp, invoice_ids: list[str] | None = None) -> pd.DataFrame:
    """`bundle.score(ledger, cutoff)` for the asked invoices only (all when None): the feature rows are built for the
    whole (restricted) ledger, since a customer's exposure features read all its open invoices, but only the asked
    rows go through the models (their scores do not depend on the other rows; the rank is redone by `rerank`)."""
    rows = bundle.feature_rows(ledger, cutoff)
    if invoice_ids is not None:
        rows = rows[rows["invoice_id"].isin(invoice_ids)].reset_index(drop=True)
    return bundle.score_rows(rows)


def merged_ledger(view: LedgerView, kept: dict[str, pd.DataFrame]) -> Ledger:
    """The stored ledger of the customers involved (those of the given invoices, and of the invoices the given rows
    refer to), with the given rows in place of the stored rows with the same keys."""
    given_invoices = kept.get("invoices")
    given_ids = set() if given_invoices is None else set(given_invoices["invoice_id"].astype("str"))
    customers = set() if given_invoices is None else set(given_invoices["customer_id"].astype("str"))
    referred = set()
    for name in CHILD_TABLES:
        if name in kept:
            referred |= set(kept[name]["invoice_id"].astype("str"))
    customers |= view.rows.customers_of_invoices(referred - given_ids)
    stored = restrict(view.ledger, view.rows, customers)
    tables = dict(stored.tables)
    # each merged invoice's row in the whole ledger when its settlement can be reused from there, else -1
    positions = stored.invoices.index.to_numpy()
    for name, rows in kept.items():
        rows = rows[[*(c.name for c in TABLES[name].columns), ROW_COLUMN]]
        if name == "invoices":
            unchanged = _unchanged_positions(stored.invoices, rows)
        tables[name], kept_rows = _upsert(tables[name], rows, TABLE_KEYS[name])
        if name == "invoices":
            positions = np.concatenate([positions[kept_rows], unchanged])
    merged = Ledger(
        tables, base_currency=stored.base_currency, default_days=stored.default_days, known_until=stored.known_until
    )
    known_until = max(view.ledger.known_until, merged.last_fact_date())
    merged = Ledger(
        tables, base_currency=stored.base_currency, default_days=stored.default_days, known_until=known_until
    )
    if known_until == view.ledger.known_until:  # the stored invoices' settlement is then the whole ledger's
        with_payments = set()
        for name in ("payments", "adjustments"):  # what settlement reads besides the invoice itself
            if name in kept:
                with_payments |= set(kept[name]["invoice_id"].astype("str"))
        with_settlement(merged, merged_settlement(merged, view.settlement, positions, with_payments))
    return merged


def _unchanged_positions(stored: pd.DataFrame, given: pd.DataFrame) -> np.ndarray:
    """For each given invoice, the whole-ledger row of the stored invoice it repeats exactly (every contract value
    equal), else -1 (new or changed)."""
    out = np.full(len(given), -1, dtype=np.int64)
    if not len(stored) or not len(given):
        return out
    at = pd.Index(stored["invoice_id"].astype("str")).get_indexer(given["invoice_id"].astype("str"))
    found = np.flatnonzero(at >= 0)
    if not len(found):
        return out
    same = np.ones(len(found), dtype=bool)
    for column in TABLES["invoices"].columns:
        mine = stored[column.name].to_numpy()[at[found]]
        theirs = given[column.name].to_numpy()[found]
        same &= pd.Series(mine).eq(pd.Series(theirs)).to_numpy(dtype=bool) | (pd.isna(mine) & pd.isna(theirs))
    out[found[same]] = stored.index.to_numpy()[at[found[same]]]
    return out


def _upsert(stored: pd.DataFrame, given: pd.DataFrame, keys: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    """Stored rows whose key is not given, then the given rows (the in-memory image of a sync's upsert); and which
    stored rows were kept."""
    kept = np.ones(len(stored), dtype=bool)
    if not len(given):
        return stored, kept
    if len(stored):
        replaced = (
            pd.MultiIndex.from_frame(given[list(keys)].astype(str))
            if len(keys) > 1
            else pd.Index(given[keys[0]].astype(str))
        )
        mine = (
            pd.MultiIndex.from_frame(stored[list(keys)].astype(str))
            if len(keys) > 1
            else pd.Index(stored[keys[0]].astype(str))
        )
        kept = ~mine.isin(replaced)
        stored = stored[kept]
    return pd.concat([stored, given], ignore_index=True), kept


def rerank(scores: pd.DataFrame) -> pd.DataFrame:
    """priority_rank among these rows (1 = most at stake), keeping the order `payrisk score` ranks them in."""
    if not len(scores):
        return scores.reset_index(drop=True)
    order = np.argsort(scores["priority_rank"].to_numpy(), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    return scores.assign(priority_rank=rank).reset_index(drop=True)


def _no_scores() -> pd.DataFrame:
    from training.bundle import SCORE_COLUMNS

    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "priority_rank" else object) for c in SCORE_COLUMNS})


def _not_in(asked: Iterable[str], scores: pd.DataFrame) -> list[str]:
    scored = set(scores["invoice_id"].astype(str))
    return sorted({str(i) for i in asked} - scored)
