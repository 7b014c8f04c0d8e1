"""A collector's worklist read from the store: the one assembly the API route and the web pages share (the
collector's customers, the latest scoring run's scores, their activities, the policy from the settings)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from serving.services.agencies import placed_invoices
from serving.services.ledger_index import LedgerView, restrict
from serving.services.worklist import Account, build_worklist
from serving.services.worklist_order import WorklistPolicy
from serving.settings import Settings
from serving.store.activities import activities_frame
from serving.store.models import SCORE_COLUMNS, ScoringRun
from serving.store.scores import latest_run, read_scores


@dataclass
class CollectorWorklist:
    collector_id: str
    as_of: dt.date
    run: ScoringRun | None
    policy: WorklistPolicy
    accounts: list[Account]


def collector_worklist(
    session: Session,
    view: LedgerView,
    settings: Settings,
    collector_id: str,
    as_of: dt.date | None = None,
    escalate_dpd: int = 120,
    customer_ids: list[str] | None = None,
) -> CollectorWorklist:
    """The collector's ranked accounts (or, with `customer_ids`, those of them only) as of `as_of` (default: the
    scoring run's as-of date, else the ledger's last fact)."""
    customers = view.ledger.customers
    owned = customers.loc[customers["collector_id"] == collector_id, "customer_id"].tolist()
    if customer_ids is not None:
        wanted = set(customer_ids)
        owned = [c for c in owned if c in wanted]
    # the collector's customers only (the worklist is per customer): O(their rows), not the whole book
    ledger = restrict(view.ledger, view.rows, owned, view.settlement)
    run = latest_run(session)
    scores = read_scores(session, run.id, owned) if run else pd.DataFrame(columns=SCORE_COLUMNS)
    cutoff = as_of or (run.as_of if run else ledger.known_until.date())
    activities = activities_frame(session, owned)
    policy = WorklistPolicy.from_settings(settings)
    placed = placed_invoices(session, cutoff)  # placed with an agency: off the worklist, shown as placed
    accounts = build_worklist(scores, ledger, activities, cutoff, escalate_dpd, owned, policy, placed)
    return CollectorWorklist(collector_id, cutoff, run, policy, accounts)
