"""Session fixtures shared by every suite: the one trained bundle (training is the slow part; it runs once)."""

from __future__ import annotations

import pytest

from tests.support.trained import Trained, train


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    """The simulated ledger, the as-of date, the training data and the ScoringBundle trained on it, with what each
    LightGBM model received (tests/support/trained.py). Shared by the whole session: do not mutate."""
    return train(tmp_path_factory.mktemp("ledger"))


@pytest.fixture(scope="session")
def bundle(trained: Trained):
    """The session's trained ScoringBundle (scored by the serving tests on their own ledgers)."""
    return trained.bundle
