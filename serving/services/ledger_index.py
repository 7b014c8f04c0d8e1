"""Where each customer's facts are in a Ledger, so a request can score a few customers without the whole book.

Every feature is a function of one customer's history plus the fx rates (features/engine.py), so the ledger of the
customers involved (and all fx rates) gives the same feature rows for them as the whole ledger. `CustomerRows` is
built once per ledger (the service keeps one per store revision, next to the cached Ledger); `restrict` then costs
O(rows of those customers), not O(ledger).

The settlement status (`Ledger.settlement`) is per invoice too: a restricted ledger gets the rows of the whole
ledger's (computed once per revision) instead of recomputing them (`with_settlement`); only the invoices a request
adds or changes are recomputed (`merged_settlement`), with the same function,
`features.ledger.ledger.settlement_status`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np
import pandas as pd

from features.build import positions_in
from features.ledger.ledger import Ledger, settlement_status

CHILD_TABLES = ("payments", "adjustments", "disputes", "promises")


class CustomerRows:
    """For each table of one ledger, the row positions of each customer's rows (a CSR index: `order` sorted by
    customer code, `starts` the offsets). Children (payments, ...) belong to the customer of their invoice."""

    def __init__(self, ledger: Ledger):
        customer_ids = pd.unique(ledger.customers["customer_id"].astype("str").to_numpy(dtype=object))
        self.names = [str(c) for c in customer_ids]
        self.code: dict[str, int] = {c: i for i, c in enumerate(self.names)}
        invoices = ledger.invoices
        self._invoice_ids = pd.Index(invoices["invoice_id"].astype("str").to_numpy(dtype=object))
        self._invoice_code = positions_in(pd.Index(customer_ids), invoices["customer_id"])
        codes = {
            "customers": positions_in(pd.Index(customer_ids), ledger.customers["customer_id"]),
            "invoices": self._invoice_code,
        }
        for name in CHILD_TABLES:
            invoice = positions_in(self._invoice_ids, ledger.tables[name]["invoice_id"])
            codes[name] = np.where(invoice >= 0, self._invoice_code[np.maximum(invoice, 0)], -1)
        self.order: dict[str, np.ndarray] = {}
        self.starts: dict[str, np.ndarray] = {}
        for name, table_codes in codes.items():
            order = np.argsort(table_codes, kind="stable")
            self.order[name] = order
            self.starts[name] = np.searchsorted(table_codes[order], np.arange(len(customer_ids) + 1), side="left")

    def customers_of_invoices(self, invoice_ids: Iterable[str]) -> set[str]:
        """The customers of the given (stored) invoices; unknown invoice ids are skipped."""
        ids = [str(i) for i in invoice_ids]
        if not ids:
            return set()
        positions = self._invoice_ids.get_indexer(ids)
        codes = self._invoice_code[positions[positions >= 0]]
        return {self.names[c] for c in codes if c >= 0}

    def positions(self, table: str, customer_ids: Iterable[str]) -> np.ndarray:
        """Row positions (ascending: the ledger's own row order) of the customers' rows in `table`."""
        order, starts = self.order[table], self.starts[table]
        codes = [self.code[c] for c in customer_ids if c in self.code]
        if not codes:
            return np.zeros(0, dtype=np.int64)
        parts = [order[starts[c] : starts[c + 1]] for c in codes]
        return np.sort(np.concatenate(parts))


def restrict(
    ledger: Ledger, rows: CustomerRows, customer_ids: Iterable[str], settlement: pd.DataFrame | None = None
) -> Ledger:
    """The ledger of these customers only (all fx rates kept; `known_until` unchanged, so as-of views agree).

    Invoices keep their row position in `ledger` as index labels. `settlement`: the whole ledger's settlement status,
    whose rows the restricted ledger then reuses.
    """
    wanted = {str(c) for c in customer_ids}
    positions = {name: rows.positions(name, wanted) for name in rows.order}
    tables = {
        name: frame.take(positions[name]) if name in positions else frame for name, frame in ledger.tables.items()
    }
    restricted = Ledger(
        tables, base_currency=ledger.base_currency, default_days=ledger.default_days, known_until=ledger.known_until
    )
    if settlement is not None:
        with_settlement(restricted, settlement.take(positions["invoices"]))
    return restricted


def with_settlement(ledger: Ledger, settlement: pd.DataFrame) -> Ledger:
    """Give `ledger` a settlement status computed beforehand (row i = invoice i), as `Ledger.settlement` would compute
    it; ignored (computed as usual) unless its invoices are the ledger's, in order."""
    ids = ledger.invoices["invoice_id"].to_numpy(dtype=object)
    if len(settlement) == len(ids) and (settlement["invoice_id"].to_numpy(dtype=object) == ids).all():
        ledger.__dict__["settlement"] = settlement.reset_index(drop=True)  # what functools.cached_property stores
    return ledger


def merged_settlement(
    ledger: Ledger, stored: pd.DataFrame, positions: np.ndarray, with_payments: set[str]
) -> pd.DataFrame:
    """The settlement status of `ledger`, reusing the rows of `stored` (the whole ledger's status): `positions` gives
    each invoice's row there (-1: new or changed, recomputed); invoices in `with_payments` (given payments or
    adjustments) are recomputed too, with `features.ledger.ledger.settlement_status`. Row i = invoice i of `ledger`."""
    invoices = ledger.invoices
    recompute = (positions < 0) | invoices["invoice_id"].astype("str").isin(with_payments).to_numpy()
    reused, recomputed = np.flatnonzero(~recompute), np.flatnonzero(recompute)
    parts = [stored.take(positions[reused])]
    if len(recomputed):
        ids = set(invoices["invoice_id"].iloc[recomputed].astype("str"))
        children = {
            name: ledger.tables[name][ledger.tables[name]["invoice_id"].astype("str").isin(ids)]
            for name in ("payments", "adjustments")
        }
        fresh = settlement_status(
            invoices.iloc[recomputed],
            children["payments"],
            children["adjustments"],
            ledger.default_days,
            ledger.known_until,
        )
        parts.append(fresh.astype(stored.dtypes.to_dict()))
    combined = pd.concat(parts, ignore_index=True)
    order = np.empty(len(invoices), dtype=np.int64)
    order[reused] = np.arange(len(reused))
    order[recomputed] = len(reused) + np.arange(len(recomputed))
    return combined.take(order).reset_index(drop=True)


class LedgerView:
    """One store revision's Ledger with what is derived from it once: the per-customer index and the settlement
    status (built on first use), and the fingerprints of its as-of views (a few dates kept)."""

    FINGERPRINTS_KEPT = 16

    def __init__(self, revision: int, ledger: Ledger):
        self.revision = revision
        self.ledger = ledger
        self._rows_lock, self._settlement_lock = threading.Lock(), threading.Lock()
        self._fingerprints_lock = threading.Lock()
        self._rows: CustomerRows | None = None
        self._fingerprints: OrderedDict[pd.Timestamp, str] = OrderedDict()

    @property
    def rows(self) -> CustomerRows:
        with self._rows_lock:
            if self._rows is None:
                self._rows = CustomerRows(self.ledger)
            return self._rows

    @property
    def settlement(self) -> pd.DataFrame:
        """The whole ledger's settlement status (computed once; worklists and KPIs use it too)."""
        with self._settlement_lock:
            return self.ledger.settlement

    def fingerprint(self, as_of: pd.Timestamp) -> str:
        """`ledger.as_of(as_of).fingerprint()`, computed once per date (it hashes the whole book)."""
        with self._fingerprints_lock:
            found = self._fingerprints.get(as_of)
            if found is None:
                found = self._fingerprints[as_of] = self.ledger.as_of(as_of).fingerprint()
                while len(self._fingerprints) > self.FINGERPRINTS_KEPT:
                    self._fingerprints.popitem(last=False)
            self._fingerprints.move_to_end(as_of)
            return found
