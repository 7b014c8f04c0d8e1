"""The backtest plots are written as PNG files, from hand-made cutoff results (no training)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.labels import HORIZON_WEEKS
from training.backtest import CutoffResult
from training.plots import pooled_reliability, write_plots


def _result(day: str, seed: int) -> CutoffResult:
    rng = np.random.default_rng(seed)
    expected = rng.uniform(50, 100, HORIZON_WEEKS)
    cash = pd.DataFrame(
        {
            "week": np.arange(1, HORIZON_WEEKS + 1),
            "actual": expected * rng.uniform(0.7, 1.3, HORIZON_WEEKS),
            "expected_model": expected,
            "p10": expected * 0.8,
            "p50": expected,
            "p90": expected * 1.2,
            "p10_fixed": expected * 0.7,
            "p90_fixed": expected * 1.3,
            "expected_customer_history": expected * 1.1,
        }
    )
    cash["in_band"] = (cash["actual"] >= cash["p10"]) & (cash["actual"] <= cash["p90"])
    reliability = {"model": (np.array([0.05, np.nan]), np.array([0.04, np.nan]), np.array([10, 0]))}
    return CutoffResult(
        pd.Timestamp(day), {}, {}, {}, cash, reliability, mean_p_default={"model": 0.1}, realised_default_rate=0.12
    )


def test_write_plots_writes_the_cash_reliability_and_default_by_cutoff_pngs(tmp_path):
    results = [_result("2025-06-30", 1), _result("2025-07-15", 2), _result("2025-08-31", 3)]
    paths = write_plots(results, tmp_path / "plots")
    names = {p.name for p in paths}
    assert {"cash_forecast_vs_actual.png", "reliability_default.png", "default_by_cutoff.png"} <= names
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


def test_pooled_reliability_weights_each_cutoff_by_its_counts():
    first = CutoffResult(pd.Timestamp("2025-01-31"), {}, {}, {}, pd.DataFrame())
    second = CutoffResult(pd.Timestamp("2025-02-28"), {}, {}, {}, pd.DataFrame())
    first.reliability = {"model": (np.array([0.1, np.nan]), np.array([0.0, np.nan]), np.array([10, 0]))}
    second.reliability = {"model": (np.array([0.2, 0.9]), np.array([0.3, 1.0]), np.array([30, 5]))}
    mean_p, rate, count = pooled_reliability([first, second], "model")
    np.testing.assert_array_equal(count, [40, 5])
    assert mean_p[0] == pytest.approx((0.1 * 10 + 0.2 * 30) / 40) and rate[0] == pytest.approx(0.9 / 4)
    assert mean_p[1] == pytest.approx(0.9) and pooled_reliability([first], "reference_lgbm") is None
