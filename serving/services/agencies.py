"""Collection agencies: place an account (or some of its invoices) with a named agency, record what it recovers and
the fees it keeps, and how each agency performs.

- A placement is per invoice: the open amount on the placement date (invoice currency) is the amount placed. Only an
  invoice open then, and not already placed, can be placed. Recalling ends it (the invoice goes back to the list).
- A placed invoice leaves the collectors' worklists from its placement date until it is recalled
  (`placed_invoices`, read by the worklist route and command).
- Recoveries are what the agency reports (amount recovered and the fee it kept, per placement and date), kept
  beside the ledger: the ledger's payments are what the ERP applied, which the agency's remittance may become.
- Performance per agency as of a date, in base currency at the rate as of that date: amount placed, recovered,
  fees, recovery rate = recovered / placed, net = recovered - fees, fee rate = fees / recovered, and days to
  recover = the recovered-amount-weighted mean of (recovery date - placement date).

Every write is audited (`agency.place`, `agency.recall`, `agency.recovery`) in its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from features.errors import PayriskError
from features.ledger.ledger import Ledger, to_date
from serving.store import audit
from serving.store.engine import write_lock
from serving.store.models import AgencyPlacement, AgencyRecovery

CENT = Decimal("0.01")


class PlacementRefused(PayriskError):
    """A placement, recall or recovery that does not fit the ledger or the placements (the message says why)."""


def active_placements(session: Session, as_of: dt.date | None = None) -> list[AgencyPlacement]:
    """Placements in force at the end of `as_of` (default: now): placed by then and not recalled by then."""
    statement = select(AgencyPlacement).order_by(AgencyPlacement.id)
    rows = list(session.execute(statement).scalars())
    if as_of is None:
        return [p for p in rows if p.recalled_date is None]
    return [p for p in rows if p.placed_date <= as_of and (p.recalled_date is None or p.recalled_date > as_of)]


def placed_invoices(session: Session, as_of: dt.date | None = None) -> dict[str, str]:
    """invoice id -> agency, for the placements in force at `as_of`."""
    return {p.invoice_id: p.agency for p in active_placements(session, as_of)}


def place(
    session: Session,
    ledger: Ledger,
    agency: str,
    customer_id: str,
    placed_date: dt.date,
    actor: audit.Actor,
    invoice_ids: Sequence[str] | None = None,
    note: str | None = None,
) -> list[AgencyPlacement]:
    """Place the account's invoices open at `placed_date` (or the given ones) with `agency`, in one transaction."""
    if not agency.strip():
        raise PlacementRefused("name the agency")
    if pd.Timestamp(placed_date) > pd.Timestamp(ledger.known_until).normalize():
        raise PlacementRefused(
            f"placed_date {placed_date} is after the ledger's last fact ({pd.Timestamp(ledger.known_until).date()})"
        )
    book = ledger.open_amounts(placed_date)
    book = book[(book["customer_id"].astype(str) == customer_id) & (book["open_amount"] > 0)]
    if customer_id not in set(ledger.customers["customer_id"].astype(str)):
        raise PlacementRefused(f"no customer {customer_id}")
    wanted = sorted(set(book["invoice_id"].astype(str)) if invoice_ids is None else set(invoice_ids))
    open_ids = set(book["invoice_id"].astype(str))
    not_open = [i for i in wanted if i not in open_ids]
    if not_open:
        raise PlacementRefused(
            f"invoice(s) {', '.join(not_open[:10])} are not open invoices of {customer_id} on {placed_date}"
        )
    if not wanted:
        raise PlacementRefused(f"{customer_id} has no open invoice on {placed_date}")
    with write_lock(session):
        already = {p.invoice_id: p.agency for p in active_placements(session) if p.invoice_id in wanted}
        if already:
            raise PlacementRefused(
                "already placed: " + ", ".join(f"{i} (with {a})" for i, a in sorted(already.items())[:10])
            )
        rows = book.set_index(book["invoice_id"].astype(str))
        made = []
        for invoice_id in wanted:
            placement = AgencyPlacement(
                agency=agency.strip(),
                customer_id=customer_id,
                invoice_id=invoice_id,
                placed_date=placed_date,
                amount_placed=Decimal(repr(float(rows.loc[invoice_id, "open_amount"]))).quantize(CENT),
                currency=str(rows.loc[invoice_id, "currency"]),
                note=note,
                created_by=actor.name,
                created_by_key_id=actor.key_id,
            )
            session.add(placement)
            made.append(placement)
        session.flush()
        for placement in made:
            audit.record(session, actor, "agency.place", "agency_placement", str(placement.id), after=_row(placement))
        session.commit()
    return made


def recall(session: Session, placement_id: int, recalled_date: dt.date, actor: audit.Actor) -> AgencyPlacement:
    with write_lock(session):
        placement = _placement(session, placement_id)
        if placement.recalled_date is not None:
            raise PlacementRefused(f"placement {placement_id} was recalled on {placement.recalled_date}")
        if recalled_date < placement.placed_date:
            raise PlacementRefused(f"recalled_date {recalled_date} is before the placement ({placement.placed_date})")
        before = _row(placement)
        placement.recalled_date = recalled_date
        audit.record(session, actor, "agency.recall", "agency_placement", str(placement.id), before, _row(placement))
        session.commit()
    return placement


def record_recovery(
    session: Session,
    placement_id: int,
    date: dt.date,
    amount: Decimal,
    fee: Decimal,
    actor: audit.Actor,
    note: str | None = None,
) -> AgencyRecovery:
    """Record what the agency recovered on a placement (invoice currency) and the fee it kept."""
    with write_lock(session):
        placement = _placement(session, placement_id)
        if date < placement.placed_date:
            raise PlacementRefused(f"recovery date {date} is before the placement ({placement.placed_date})")
        if amount < 0 or fee < 0:
            raise PlacementRefused("a recovery's amount and fee are not negative")
        recovered = sum(
            (
                r.amount
                for r in session.execute(
                    select(AgencyRecovery).where(AgencyRecovery.placement_id == placement_id)
                ).scalars()
            ),
            Decimal(0),
        )
        if recovered + amount > placement.amount_placed:
            raise PlacementRefused(
                f"recoveries of placement {placement_id} would total {recovered + amount}, more than the "
                f"{placement.amount_placed} {placement.currency} placed"
            )
        if fee > amount:
            raise PlacementRefused(f"the fee {fee} is more than the amount recovered {amount}")
        recovery = AgencyRecovery(
            placement_id=placement_id,
            date=date,
            amount=amount,
            fee=fee,
            note=note,
            created_by=actor.name,
            created_by_key_id=actor.key_id,
        )
        session.add(recovery)
        session.flush()
        audit.record(
            session,
            actor,
            "agency.recovery",
            "agency_recovery",
            str(recovery.id),
            after={"placement_id": placement_id, "date": date, "amount": amount, "fee": fee},
        )
        session.commit()
    return recovery


def _placement(session: Session, placement_id: int) -> AgencyPlacement:
    placement = session.get(AgencyPlacement, placement_id)
    if placement is None:
        raise PlacementRefused(f"no placement {placement_id}")
    return placement


def _row(p: AgencyPlacement) -> dict:
    return {
        "agency": p.agency,
        "customer_id": p.customer_id,
        "invoice_id": p.invoice_id,
        "placed_date": p.placed_date,
        "amount_placed": p.amount_placed,
        "currency": p.currency,
        "recalled_date": p.recalled_date,
    }


@dataclass(frozen=True)
class AgencyPerformance:
    agency: str
    placements: int
    placed_base: float
    recovered_base: float
    fees_base: float
    net_recovered_base: float
    recovery_rate: float | None
    """recovered / placed."""
    fee_rate: float | None
    """fees / recovered."""
    days_to_recover: float | None
    """Recovered-amount-weighted mean of (recovery date - placement date)."""


def performance(session: Session, ledger: Ledger, as_of: object) -> list[AgencyPerformance]:
    """Per agency, placements made by `as_of` and recoveries dated by it, in base currency at the rate as of it."""
    cutoff = to_date(as_of)
    placements = [p for p in session.execute(select(AgencyPlacement)).scalars() if p.placed_date <= cutoff.date()]
    recoveries = [r for r in session.execute(select(AgencyRecovery)).scalars() if r.date <= cutoff.date()]
    if not placements:
        return []
    currencies = pd.Series(sorted({p.currency for p in placements}))
    rates = dict(zip(currencies, ledger.fx_rate(currencies, pd.Series([cutoff] * len(currencies))), strict=True))
    by_id = {p.id: p for p in placements}
    out = []
    for agency in sorted({p.agency for p in placements}):
        mine = [p for p in placements if p.agency == agency]
        got = [r for r in recoveries if r.placement_id in by_id and by_id[r.placement_id].agency == agency]

        def base(amount: Decimal, currency: str) -> float:
            rate = rates.get(currency, np.nan)
            return float(amount) * (0.0 if np.isnan(rate) else float(rate))

        placed = round(sum(base(p.amount_placed, p.currency) for p in mine), 2)
        recovered = round(sum(base(r.amount, by_id[r.placement_id].currency) for r in got), 2)
        fees = round(sum(base(r.fee, by_id[r.placement_id].currency) for r in got), 2)
        weights = [base(r.amount, by_id[r.placement_id].currency) for r in got]
        days = [(r.date - by_id[r.placement_id].placed_date).days for r in got]
        out.append(
            AgencyPerformance(
                agency=agency,
                placements=len(mine),
                placed_base=placed,
                recovered_base=recovered,
                fees_base=fees,
                net_recovered_base=round(recovered - fees, 2),
                recovery_rate=None if placed == 0 else recovered / placed,
                fee_rate=None if recovered == 0 else fees / recovered,
                days_to_recover=None if sum(weights) == 0 else float(np.average(days, weights=weights)),
            )
        )
    return out
