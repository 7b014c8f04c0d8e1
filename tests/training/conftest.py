"""Fixtures of the training suite, over the session's one trained bundle (`trained`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from features.build import build_features
from tests.support.mlflow import isolate, reset_mlflow
from tests.support.trained import Trained


@pytest.fixture(scope="session")
def scores(trained: Trained) -> pd.DataFrame:
    """`payrisk score` output at the training as-of date, from the full ledger (do not mutate)."""
    return trained.bundle.score(trained.ledger, trained.as_of)


@pytest.fixture(scope="session")
def feature_rows(trained: Trained) -> pd.DataFrame:
    """Feature rows of the invoices open at the as-of date (do not mutate)."""
    return build_features(trained.ledger.as_of(trained.as_of), trained.as_of)


@pytest.fixture
def isolated(tmp_path) -> Iterator[dict[str, str]]:
    """Per test: settings and MLflow in tmp_path; restored afterwards."""
    from serving.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        yield isolate(patch, tmp_path / "env")
        reset_mlflow()
    get_settings.cache_clear()
