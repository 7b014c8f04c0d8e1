"""`payrisk worklist --ledger DIR --as-of DATE --out FILE.csv [--model REF]`: every collector's ranked accounts.

The same function as `GET /v1/worklists/{collector_id}` (serving.services.worklist.build_worklist, ranked with the
PAYRISK_WORKLIST_* / PAYRISK_COLLECTOR_* settings), on a ledger directory scored by a bundle: no activities are
logged outside the service store, so nothing is cooling down.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from payrisk.commands.model import _bundle, _load, console
from payrisk.commands.options import AsOfOption
from serving.settings import get_settings


def worklist(
    ledger: Path = typer.Option(..., "--ledger"),
    as_of: AsOfOption = ...,  # type: ignore[assignment]  # required (typer reads ... as "no default")
    out: Path = typer.Option(..., "--out", help="CSV file, one row per account"),
    model: str | None = typer.Option(None, "--model", help="A bundle path or registry version (default: champion)"),
    escalate_dpd: int = typer.Option(120, "--escalate-dpd", min=1),
) -> None:
    """Score the open book as of a date and write every collector's worklist (collector, rank, at stake, action)."""
    from serving.services.worklist import build_worklist
    from serving.services.worklist_export import account_rows
    from serving.services.worklist_order import WorklistPolicy
    from serving.store.activities import ACTIVITY_COLUMNS

    data = _load(ledger)
    cutoff = as_of.resolve(data.known_until)
    scores = _bundle(model).score(data, cutoff, with_reasons=True)
    policy = WorklistPolicy.from_settings(get_settings())
    activities = pd.DataFrame(columns=ACTIVITY_COLUMNS)
    customer_ids = data.customers["customer_id"].tolist()
    accounts = build_worklist(scores, data, activities, cutoff, escalate_dpd, customer_ids, policy)
    rows = account_rows(accounts)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out, index=False)
    today = rows[rows["today"]]
    console.print(
        f"{len(rows):,} accounts with open invoices as of {cutoff.date()}, {rows['collector_id'].nunique()} "
        f"collector(s), {len(today):,} for today -> {out}"
    )
    console.print(today.groupby("collector_id").head(3).drop(columns=["next_action_reason"]).to_string(index=False))
