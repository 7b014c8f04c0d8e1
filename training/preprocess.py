"""Turning feature rows into the matrix LightGBM reads: a float32 numpy array in a fixed column order, with
categoricals encoded as the integer codes of the categories seen at fit time (unknown -> missing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from features.catalog import CATEGORICAL, MODEL_FEATURES


class Preprocessor(BaseEstimator):
    """A scikit-learn transformer: `fit` learns the categories (`categories_`), `transform` returns the float32
    model matrix. Columns: the numeric features, then the categorical ones (`feature_names_`, `categorical_indices_`).
    `features` / `categorical` default to the catalog's model features and categoricals.
    """

    def __init__(self, *, features: list[str] | None = None, categorical: list[str] | None = None):
        self.features = features
        self.categorical = categorical

    def fit(self, rows: pd.DataFrame) -> Preprocessor:
        self.features_ = list(self.features or MODEL_FEATURES)
        self.categorical_ = [c for c in (self.categorical or CATEGORICAL) if c in self.features_]
        self._check(rows)
        self.categories_ = {c: sorted(pd.unique(rows[c].astype("str"))) for c in self.categorical_}
        return self

    def _check(self, rows: pd.DataFrame) -> None:
        missing = [c for c in self.features_ if c not in rows.columns]
        if missing:
            raise ValueError(f"feature rows lack columns: {', '.join(missing)}")

    @property
    def numeric_(self) -> list[str]:
        check_is_fitted(self)
        return [c for c in self.features_ if c not in self.categorical_]

    @property
    def feature_names_(self) -> list[str]:
        return self.numeric_ + self.categorical_

    @property
    def categorical_indices_(self) -> list[int]:
        return list(range(len(self.numeric_), len(self.features_)))

    def transform(self, rows: pd.DataFrame) -> np.ndarray:
        """(n, n_features) float32 matrix."""
        check_is_fitted(self)
        self._check(rows)
        numeric = self.numeric_
        matrix = np.empty((len(rows), len(self.features_)), dtype=np.float32)
        matrix[:, : len(numeric)] = rows[numeric].to_numpy(dtype=np.float32)
        for offset, column in enumerate(self.categorical_):
            codes = pd.Categorical(rows[column].astype("str").to_numpy(), categories=self.categories_[column]).codes
            matrix[:, len(numeric) + offset] = np.where(codes >= 0, codes, np.nan)
        return matrix


def with_extra(matrix: np.ndarray, position: np.ndarray, extra: pd.DataFrame) -> np.ndarray:
    """Rows of `matrix` repeated by `position`, with the `extra` columns appended (float32)."""
    out = np.empty((len(position), matrix.shape[1] + extra.shape[1]), dtype=np.float32)
    out[:, : matrix.shape[1]] = matrix[position]
    out[:, matrix.shape[1] :] = extra.to_numpy(dtype=np.float32)
    return out
