"""Session fixtures shared by every suite: the one trained bundle (training is the slow part; it runs once)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

from tests.support.trained import Trained, train

# One cache of compiled models for the whole session (keyed by model text, compiler and CPU: sharing it is safe), so
# every app a test starts compiles the session bundle once, not once per test; set before any Settings is made.
if "PAYRISK_COMPILED_DIR" not in os.environ:
    _compiled = tempfile.mkdtemp(prefix="payrisk-compiled-")
    os.environ["PAYRISK_COMPILED_DIR"] = _compiled
    atexit.register(shutil.rmtree, _compiled, ignore_errors=True)


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    """The simulated ledger, the as-of date, the training data and the ScoringBundle trained on it, with what each
    LightGBM model received (tests/support/trained.py). Shared by the whole session: do not mutate."""
    return train(tmp_path_factory.mktemp("ledger"))


@pytest.fixture(scope="session")
def bundle(trained: Trained):
    """The session's trained ScoringBundle (scored by the serving tests on their own ledgers)."""
    return trained.bundle
