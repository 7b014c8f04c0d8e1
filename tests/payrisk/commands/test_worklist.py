"""`payrisk worklist` end to end on a small simulated ledger: the same accounts as build_worklist, one row each."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate, write_ledger
from payrisk.cli import app
from serving.services.worklist import build_worklist
from serving.services.worklist_export import ACCOUNT_COLUMNS
from serving.services.worklist_order import WorklistPolicy
from serving.settings import get_settings
from training.train import TrainConfig, fit_bundle

AS_OF = "2025-01-31"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    directory = tmp_path_factory.mktemp("small")
    ledger_dir = directory / "ledger"
    write_ledger(simulate(90, 14, seed=5), ledger_dir)
    ledger = Ledger.load(ledger_dir)
    config = TrainConfig(rounds=8, window_days=180, every_days=21, early_stopping=4, num_threads=1)
    bundle = fit_bundle(ledger, AS_OF, config)
    return ledger, ledger_dir, bundle, bundle.save(directory / "bundle.joblib")


def test_worklist_command_writes_every_collectors_accounts(small, tmp_path, monkeypatch):
    ledger, ledger_dir, bundle, bundle_path = small
    monkeypatch.setenv("PAYRISK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAYRISK_COLLECTOR_CAPACITY", "4")
    get_settings.cache_clear()
    out = tmp_path / "out" / "worklist.csv"
    try:
        result = CliRunner().invoke(
            app,
            ["worklist", "--ledger", str(ledger_dir), "--as-of", AS_OF, "--out", str(out), "--model", str(bundle_path)],
        )
        policy = WorklistPolicy.from_settings(get_settings())
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    assert list(rows.columns) == ACCOUNT_COLUMNS
    assert rows["customer_id"].is_unique
    book = ledger.open_amounts(AS_OF)
    assert set(rows["customer_id"]) == set(book.loc[book["open_amount"] > 0, "customer_id"])
    for _, mine in rows.groupby("collector_id"):
        assert mine["rank"].tolist() == list(range(1, len(mine) + 1))
        assert mine["today"].tolist() == [rank <= 4 for rank in mine["rank"]]
        assert mine["at_stake"].is_monotonic_decreasing  # nothing is cooling down: no activities outside the store
    assert sorted(rows["global_rank"]) == list(range(1, len(rows) + 1))
    # the same function as the API: build_worklist on the bundle's scores with the settings' policy
    scores = bundle.score(ledger, AS_OF)
    activities = pd.DataFrame(columns=["activity_id", "customer_id", "kind", "date"])
    accounts = build_worklist(
        scores, ledger, activities, AS_OF, customer_ids=ledger.customers["customer_id"], policy=policy
    )
    assert rows["customer_id"].tolist() == [a.customer_id for a in accounts]
    assert rows["at_stake"].tolist() == pytest.approx([a.at_stake for a in accounts])
    past_due = rows[rows["oldest_days_past_due"] > 0]
    assert (past_due["past_due_amount_base"] > 0).all()
