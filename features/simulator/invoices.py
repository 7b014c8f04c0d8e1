"""Invoice generation for the ledger simulator: how many invoices, when, for how much, due when."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.simulator.calendar import invoice_day_cdf
from features.simulator.customers import DAYS_PER_MONTH, Customers

EXCEPTION_TERMS = np.array([7, 15, 30, 45, 60, 90])


@dataclass(frozen=True)
class Invoices:
    """Per-invoice arrays, in issuing order (invoice day, then customer)."""

    customer: np.ndarray  # customer index
    invoice_day: np.ndarray  # day number
    due_day: np.ndarray  # day number
    amount_units: np.ndarray  # amount in minor units (cents; yen for JPY), int64
    minor_scale: np.ndarray  # minor units per currency unit (100 or 1)

    def __len__(self) -> int:
        return len(self.customer)


def draw_invoices(rng: np.random.Generator, cust: Customers, start_day: int, end_day: int) -> Invoices:
    """Issue each customer's invoices over its active days, with seasonal volume.

    Invoice counts are Poisson(invoices_per_month x active months, seasonally weighted); amounts are lognormal
    around the customer's median with a few very large invoices; due date = invoice date + the customer's
    payment terms (a few invoices carry other terms).
    """
    cdf = invoice_day_cdf(start_day, end_day)
    first = cust.active_from - start_day
    last = cust.active_to - start_day
    mass = cdf[last + 1] - cdf[first]  # seasonally weighted active days
    counts = rng.poisson(cust.invoices_per_month * mass / DAYS_PER_MONTH)
    customer = np.repeat(np.arange(len(cust), dtype=np.int64), counts)
    n = len(customer)
    u = cdf[first][customer] + rng.random(n) * mass[customer]
    day_offset = np.clip(np.searchsorted(cdf, u, side="right") - 1, first[customer], last[customer])
    invoice_day = start_day + day_offset

    terms = cust.terms_days[customer]
    exception = rng.random(n) < 0.03
    terms = np.where(exception, EXCEPTION_TERMS[rng.integers(0, len(EXCEPTION_TERMS), n)], terms)
    due_day = invoice_day + terms

    amount = np.exp(cust.log_median_amount[customer] + cust.log_sigma_amount[customer] * rng.normal(0, 1, n))
    very_large = rng.random(n) < 0.003
    amount = amount * np.where(very_large, rng.uniform(5.0, 30.0, n), 1.0)
    scale = cust.minor_scale[customer]
    amount_units = np.maximum(np.round(amount * scale), 10.0 * scale).astype(np.int64)

    order = np.lexsort((customer, invoice_day))
    return Invoices(
        customer=customer[order],
        invoice_day=invoice_day[order],
        due_day=due_day[order],
        amount_units=amount_units[order],
        minor_scale=scale[order],
    )
