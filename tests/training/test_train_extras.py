"""A declared extra feature reaches the models: on a ledger where an invoice's channel decides when it is paid, the
bundle trained with it beats the one trained without it, names it in reasons, and survives save / load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.ledger.ledger import Ledger
from tests.support.extras import CHANNEL, channel_ledger
from training.bundle import ScoringBundle
from training.explain import reasons
from training.train import TrainConfig, fit_bundle

CUTOFF = pd.Timestamp("2023-10-01")
CONFIG = TrainConfig(num_threads=1)


def _at_issue(ledger: Ledger) -> pd.DataFrame:
    """Feature rows of the invoices issued after the cutoff, each at its issue date, with the actual pay date."""
    status = ledger.settlement
    later = status[(status["invoice_date"] > CUTOFF) & status["settle_date"].notna()]
    rows = build_features(ledger, sorted(pd.unique(later["invoice_date"])))
    issued = status.set_index("invoice_id")["invoice_date"]
    rows = rows[rows["invoice_id"].map(issued).to_numpy() == rows["as_of"].to_numpy()].reset_index(drop=True)
    rows["actual"] = rows["invoice_id"].map(status.set_index("invoice_id")["settle_date"]).to_numpy()
    return rows[rows["actual"].notna()].reset_index(drop=True)


def _mae(bundle: ScoringBundle, rows: pd.DataFrame) -> float:
    scores = bundle.score_rows(rows, with_reasons=False)
    return float((scores["expected_pay_date"] - pd.to_datetime(rows["actual"])).dt.days.abs().mean())


@pytest.fixture(scope="module")
def ledgers() -> tuple[Ledger, Ledger]:
    return channel_ledger(customers=30, months=14), channel_ledger(customers=30, months=14, extras=False)


@pytest.fixture(scope="module")
def bundles(ledgers) -> tuple[ScoringBundle, ScoringBundle]:
    with_extras, without = ledgers
    return fit_bundle(with_extras, CUTOFF, CONFIG), fit_bundle(without, CUTOFF, CONFIG)


def test_the_model_with_the_extra_beats_the_model_without(ledgers, bundles):
    rows = _at_issue(ledgers[0])
    assert len(rows) > 100
    with_extras, without = _mae(bundles[0], rows), _mae(bundles[1], _at_issue(ledgers[1]))
    assert with_extras < 0.5 * without, (with_extras, without)  # the channel decides: 35 days apart
    assert bundles[0].meta["extra_features"] == ["x_channel", "x_score", "x_region"]
    assert bundles[1].meta["extra_features"] == []
    assert CHANNEL.column in bundles[0].meta["features"]


def test_reasons_can_name_an_extra_with_its_value(ledgers, bundles):
    rows = _at_issue(ledgers[0]).head(50)
    names = bundles[0].preprocessor.feature_names_
    contributions = np.zeros((len(rows), len(names)))
    contributions[:, names.index(CHANNEL.column)] = 1.0
    assert set(reasons(rows, contributions, names, top=1)) <= {"channel: fast", "channel: slow"}


def test_a_saved_bundle_keeps_its_extras_and_scores_a_ledger_without_them(tmp_path, ledgers, bundles):
    loaded = ScoringBundle.load(bundles[0].save(tmp_path / "bundle.joblib"))
    rows = _at_issue(ledgers[0])
    assert _mae(loaded, rows) == _mae(bundles[0], rows)
    as_of = CUTOFF + pd.Timedelta(days=30)
    with pytest.warns(UserWarning, match="x_channel"):
        scores = loaded.score(ledgers[1], as_of)
    assert len(scores) == len(loaded.score(ledgers[0], as_of)) and scores["expected_pay_date"].notna().all()
