"""Assertions shared by several test modules."""

from __future__ import annotations

import numpy as np
import pandas as pd


def assert_same_rows(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal rows and columns; floats equal to 1e-9 (cumulative sums may differ in the last bits)."""
    assert list(left.columns) == list(right.columns)
    assert left[["invoice_id", "as_of"]].equals(right[["invoice_id", "as_of"]]), "different snapshot rows"
    for column in left.columns:
        a, b = left[column].to_numpy(), right[column].to_numpy()
        if np.issubdtype(a.dtype, np.floating):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=column)
        else:
            assert (a == b).all(), column
