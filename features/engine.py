"""Engines decide how the ledger is partitioned; the feature function itself never changes.

Every feature is a function of one customer's history (plus fx rates, which every partition gets whole), so a
ledger split by customer gives the same rows as the whole ledger. The local engine runs partitions one after another
in this process (bounded memory); a distributed engine (e.g. Dask, partitioned by customer) implements `map`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.build import FeatureConfig, build_features
from features.ledger.ledger import Ledger


def partition_by_customer(ledger: Ledger, partitions: int) -> list[Ledger]:
    """Split a ledger into `partitions` ledgers holding disjoint sets of customers (and all of the fx rates)."""
    customer_ids = ledger.customers["customer_id"].to_numpy()
    bucket = pd.util.hash_array(customer_ids.astype(object)) % np.uint64(partitions)
    parts = []
    for part in range(partitions):
        ids = set(customer_ids[bucket == part])
        invoices = ledger.invoices[ledger.invoices["customer_id"].isin(ids)]
        invoice_ids = invoices["invoice_id"]
        tables = {
            "customers": ledger.customers[ledger.customers["customer_id"].isin(ids)],
            "invoices": invoices,
            "fx_rates": ledger.fx_rates,
        }
        for name in ("payments", "adjustments", "disputes", "promises"):
            tables[name] = ledger.tables[name][ledger.tables[name]["invoice_id"].isin(invoice_ids)]
        parts.append(
            Ledger(
                tables,
                base_currency=ledger.base_currency,
                default_days=ledger.default_days,
                known_until=ledger.known_until,
                extras=ledger.extras,
            )
        )
    return parts


@dataclass
class LocalEngine:
    """Runs the feature function over customer partitions in this process, one after another."""

    partitions: int = 1

    def map(self, function: Callable[[Ledger], pd.DataFrame], ledger: Ledger) -> pd.DataFrame:
        if self.partitions <= 1:
            return function(ledger)
        frames = [function(part) for part in partition_by_customer(ledger, self.partitions)]
        frames = [f for f in frames if len(f)]
        if not frames:
            return function(ledger)
        return (
            pd.concat(frames, ignore_index=True)
            .sort_values(["as_of", "customer_id", "invoice_id"], kind="stable")
            .reset_index(drop=True)
        )


DEFAULT_CONFIG = FeatureConfig()


def build(
    ledger: Ledger,
    as_of: object | Iterable[object],
    engine: LocalEngine | None = None,
    config: FeatureConfig = DEFAULT_CONFIG,
) -> pd.DataFrame:
    """Features for (open invoice, T) rows, through an engine (local, one partition, by default)."""
    engine = engine or LocalEngine()
    return engine.map(lambda part: build_features(part, as_of, config), ledger)
