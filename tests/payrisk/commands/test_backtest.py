"""`payrisk backtest` end to end on a small simulated ledger and two cutoffs: the tables (mean, per cutoff), the
verdict against the plain LightGBM reference, the worst cutoff and the band coverage are printed, and the CSVs and
PNG plots written to --out agree with each other."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.simulator.simulate import simulate, write_ledger
from payrisk.cli import app
from serving.settings import get_settings
from training.backtest import MODELS

CUTOFFS = "2024-08-31,2024-09-15"


@pytest.mark.slow
def test_backtest_command_writes_tables_and_plots(tmp_path, monkeypatch):
    ledger_dir = tmp_path / "ledger"
    write_ledger(simulate(60, 14, seed=5), ledger_dir)
    monkeypatch.setenv("PAYRISK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAYRISK_NUM_THREADS", "1")
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    out = tmp_path / "out"
    try:
        result = CliRunner().invoke(
            app, ["backtest", "--ledger", str(ledger_dir), "--cutoffs", CUTOFFS, "--out", str(out), "--no-log"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "worst cutoff: 2024-0" in result.output
    assert "the plain LightGBM reference" in result.output
    assert "band coverage" in result.output
    table = pd.read_csv(out / "backtest_table.csv", index_col=0)
    assert [c for c in MODELS if c in table.columns] == MODELS and "beats_reference" in table
    per_cutoff = pd.read_csv(out / "backtest_per_cutoff.csv")
    assert len(per_cutoff) == 2 * len(MODELS)
    assert sorted(per_cutoff["cutoff"].unique()) == CUTOFFS.split(",")
    model = per_cutoff[per_cutoff["model_name"] == "model"]
    assert table.loc["timing_log_loss", "model"] == pytest.approx(model["timing_log_loss"].mean())
    cash = pd.read_csv(out / "cash_by_week.csv")
    assert model["band_coverage"].mean() == pytest.approx(cash["in_band"].mean())
    for name in ("cash_forecast_vs_actual.png", "reliability_default.png", "default_by_cutoff.png"):
        assert (out / name).stat().st_size > 5_000
