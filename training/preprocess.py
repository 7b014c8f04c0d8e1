"""Turning feature rows into the matrix LightGBM reads: a float32 numpy array in a fixed column order, with
categoricals encoded as the integer codes of the categories seen at fit time (unknown -> missing)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from features.catalog import CATEGORICAL, MODEL_FEATURES
from features.ledger.extras import PREFIX as EXTRA_PREFIX


class Preprocessor(BaseEstimator):
    """A scikit-learn transformer: `fit` learns the categories (`categories_`), `transform` returns the float32
    model matrix. Columns: the numeric features, then the categorical ones (`feature_names_`, `categorical_indices_`).
    `features` / `categorical` default to the catalog's model features and categoricals.

    With `extras` (the default), the declared extra features of the rows (`x_<name>` columns, features.extras) are
    model features too: numeric ones as they are, text ones as categories fixed at fit (from their non-empty
    values; an empty or unseen value is missing). `extras_` lists them. Rows to transform that lack an extra (a
    scoring ledger without it) get it as missing, with a warning; rows lacking a catalog feature are an error.
    """

    def __init__(self, *, features: list[str] | None = None, categorical: list[str] | None = None, extras: bool = True):
        self.features = features
        self.categorical = categorical
        self.extras = extras

    def fit(self, rows: pd.DataFrame) -> Preprocessor:
        base = list(self.features or MODEL_FEATURES)
        self.extras_ = [c for c in rows.columns if c.startswith(EXTRA_PREFIX) and c not in base] if self.extras else []
        extra_categorical = [c for c in self.extras_ if not _is_numeric(rows[c])]
        self.features_ = base + self.extras_
        self.categorical_ = [c for c in (self.categorical or CATEGORICAL) if c in base] + extra_categorical
        self._check(rows)
        self.categories_ = {c: sorted(pd.unique(rows[c].astype("str"))) for c in self.categorical_ if c in base}
        for c in extra_categorical:
            values = rows[c].astype("str")
            self.categories_[c] = sorted(pd.unique(values[rows[c].notna() & values.ne("")]))
        return self

    def _check(self, rows: pd.DataFrame) -> None:
        extras = set(getattr(self, "extras_", []))
        missing = [c for c in self.features_ if c not in rows.columns and c not in extras]
        if missing:
            raise ValueError(f"feature rows lack columns: {', '.join(missing)}")
        absent = [c for c in self.features_ if c in extras and c not in rows.columns]
        if absent:
            warnings.warn(
                f"feature rows lack the extra feature(s) {', '.join(absent)} the model was trained with: scored as "
                f"missing (declare them in the ledger's features.json to use them)",
                stacklevel=3,
            )

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
        present = [c for c in numeric if c in rows.columns]
        matrix = np.full((len(rows), len(self.features_)), np.nan, dtype=np.float32)
        if len(present) == len(numeric):
            matrix[:, : len(numeric)] = rows[numeric].to_numpy(dtype=np.float32)
        else:
            for j, column in enumerate(numeric):
                if column in rows.columns:
                    matrix[:, j] = rows[column].to_numpy(dtype=np.float32)
        for offset, column in enumerate(self.categorical_):
            if column not in rows.columns:
                continue
            codes = pd.Index(self.categories_[column]).get_indexer(rows[column].astype("str").to_numpy())  # -1: unseen
            matrix[:, len(numeric) + offset] = np.where(codes >= 0, codes, np.nan)
        return matrix


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def with_extra(matrix: np.ndarray, position: np.ndarray, extra: pd.DataFrame) -> np.ndarray:
    """Rows of `matrix` repeated by `position`, with the `extra` columns appended (float32)."""
    out = np.empty((len(position), matrix.shape[1] + extra.shape[1]), dtype=np.float32)
    out[:, : matrix.shape[1]] = matrix[position]
    out[:, matrix.shape[1] :] = extra.to_numpy(dtype=np.float32)
    return out
