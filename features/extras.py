"""The declared extra features (features.ledger.extras) as feature columns of the snapshot rows (invoice, T).

Each extra becomes the column `x_<name>`: numeric ones float64 (NaN = missing), categorical ones text ("" = missing;
the Preprocessor casts them to categories fixed at training, so an unseen value is missing too). A dated extra
(known_from) is visible in the row for T only if its date is <= T; an invoice extra is otherwise known from the
invoice's issue date (its rows start then), a customer extra always.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.days import to_days
from features.ledger.ledger import Ledger


def extra_feature_columns(
    ledger: Ledger, invoice: np.ndarray, customer: np.ndarray, t: np.ndarray, customers: pd.Index
) -> dict[str, np.ndarray | pd.Series]:
    """`x_<name>` per row. `invoice`: each row's position in `ledger.invoices` (= its settlement status row);
    `customer`: each row's position in `customers` (the customer IDs in `ledger.customers` order); `t`: as-of days."""
    out: dict[str, np.ndarray | pd.Series] = {}
    by_customer = None
    for e in ledger.extras:
        if e.table == "invoices":
            frame, position = ledger.invoices.reset_index(drop=True), invoice
        else:
            if by_customer is None:
                by_customer = ledger.customers.drop_duplicates("customer_id").set_index("customer_id")
                by_customer = by_customer.reindex(customers).reset_index(drop=True)
            frame, position = by_customer, customer
        if e.column not in frame:
            raise ValueError(f"the ledger declares the feature {e.name!r} but its {e.table} table has no {e.column}")
        visible = np.ones(len(position), dtype=bool)
        if e.known_from is not None:
            visible = to_days(frame[e.known_from]).take(position) <= t
        if e.kind == "numeric":
            values = frame[e.column].to_numpy(dtype=np.float64).take(position)
            out[e.column] = np.where(visible, values, np.nan)
        else:
            text = frame[e.column].astype(object).where(frame[e.column].notna(), "").astype("str")
            values = text.to_numpy(dtype=object).take(position)
            out[e.column] = pd.Series(np.where(visible, values, ""), dtype="str")
    return out
