"""Drift: the population stability index (PSI) of the main features and of the scores, training window vs now.

At training (`training.train.fit_bundle`) the bundle records a reference profile of its training rows (every
snapshot of the window, up to REFERENCE_ROWS of them, seeded): per feature the bin edges and the share of rows in
each bin. Today's rows (the invoices open at the newest scoring run's date, and that run's scores) are binned by the
same edges and compared.

Binning rule: a numeric feature gets the deciles of its reference values as interior edges (duplicates dropped, so
a feature with few distinct values gets fewer bins), bins (-inf, e1], (e1, e2], ..., (e_k, inf), plus one bin for
missing values; a categorical feature gets one bin per reference category plus one for any other value. Shares are
floored at SHARE_FLOOR on both sides (an empty bin would make the log infinite).

PSI = sum over bins of (current - reference) * ln(current / reference): 0 on identical data; by the usual reading
< 0.1 stable, 0.1-0.25 a moderate shift, > 0.25 a significant one (the default warning threshold of the service,
`PAYRISK_DRIFT_PSI_WARN`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.contract import WEEK_COLUMNS

DRIFT_FEATURES = (
    "log_open_amount_base",
    "days_past_due",
    "days_to_due",
    "terms_days",
    "days_since_invoice",
    "dispute_open",
    "hist_days_late_mean",
    "hist_share_late",
    "hist_settled_count",
    "is_cold_start",
    "segment",
    "currency",
)
"""The main features whose stability is watched (those the models lean on most, and the book's make-up)."""
CATEGORICAL = ("segment", "currency")
SCORE_VALUES = ("p_default", "p_pay_within_4_weeks", "p_pay_later")
"""The scores watched: P(default), P(paid in the first 4 weeks), P(paid after 13 weeks or never)."""
BINS = 10
SHARE_FLOOR = 1e-4
REFERENCE_ROWS = 20_000
PSI_WARN = 0.25


def score_values(scores: pd.DataFrame) -> pd.DataFrame:
    """The SCORE_VALUES of a scores frame (`payrisk score` columns)."""
    return pd.DataFrame(
        {
            "p_default": scores["p_default"].to_numpy(dtype=np.float64),
            "p_pay_within_4_weeks": scores[list(WEEK_COLUMNS[:4])].to_numpy(dtype=np.float64).sum(axis=1),
            "p_pay_later": scores["p_pay_later"].to_numpy(dtype=np.float64),
        }
    )


def _profile(values: pd.Series, categorical: bool) -> dict:
    if categorical:
        text = values.astype("str").fillna("(missing)")
        shares = text.value_counts(normalize=True).sort_index()
        return {
            "kind": "categorical",
            "categories": [str(c) for c in shares.index],
            "shares": _shares(text, list(shares.index)),
        }
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    finite = numbers[np.isfinite(numbers)]
    edges = np.unique(np.quantile(finite, np.arange(1, BINS) / BINS)) if len(finite) else np.array([])
    return {"kind": "numeric", "edges": [float(e) for e in edges], "shares": _numeric_shares(numbers, edges)}


def _numeric_shares(numbers: np.ndarray, edges: np.ndarray) -> list[float]:
    """Shares of the len(edges) + 1 bins (right-closed), then of missing values."""
    finite = np.isfinite(numbers)
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), numbers[finite], side="left")
    counts = np.bincount(index, minlength=len(edges) + 1).astype(np.float64)
    counts = np.append(counts, float((~finite).sum()))
    return [float(c) for c in counts / max(len(numbers), 1)]


def _shares(text: pd.Series, categories: list) -> list[float]:
    """Shares of each category, then of any other value."""
    counts = text.value_counts()
    known = [float(counts.get(c, 0)) for c in categories]
    other = float(len(text) - sum(known))
    return [c / max(len(text), 1) for c in [*known, other]]


def reference_profile(rows: pd.DataFrame, scores: pd.DataFrame | None = None) -> dict:
    """The profile of the training rows (feature rows) and, given, of their scores: {name: bins and shares}."""
    out = {name: _profile(rows[name], name in CATEGORICAL) for name in DRIFT_FEATURES if name in rows}
    if scores is not None:
        values = score_values(scores)
        out.update({f"score:{name}": _profile(values[name], False) for name in SCORE_VALUES})
    return out


def current_shares(profile: dict, values: pd.Series) -> list[float]:
    """Shares of today's values in the reference's bins."""
    if profile["kind"] == "categorical":
        return _shares(values.astype("str").fillna("(missing)"), profile["categories"])
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    return _numeric_shares(numbers, np.asarray(profile["edges"], dtype=np.float64))


def psi(reference: list[float], current: list[float]) -> float:
    """The population stability index of two share vectors over the same bins (floored at SHARE_FLOOR)."""
    ref = np.maximum(np.asarray(reference, dtype=np.float64), SHARE_FLOOR)
    cur = np.maximum(np.asarray(current, dtype=np.float64), SHARE_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def drift(profile: dict, rows: pd.DataFrame, scores: pd.DataFrame | None = None) -> dict[str, float]:
    """PSI per profiled feature (and score, as `score:<name>`) of today's `rows` (and `scores`) against the profile;
    a feature missing today is left out."""
    out: dict[str, float] = {}
    values = score_values(scores) if scores is not None else None
    for name, reference in profile.items():
        if name.startswith("score:"):
            if values is None:
                continue
            column = values[name[len("score:") :]]
        elif name in rows:
            column = rows[name]
        else:
            continue
        out[name] = psi(reference["shares"], current_shares(reference, column))
    return out


def drift_warnings(values: dict[str, float], threshold: float = PSI_WARN) -> list[str]:
    """One warning per feature or score whose PSI is above `threshold`."""
    return [
        f"{name} has shifted since training: PSI {value:.3f} > {threshold}"
        for name, value in values.items()
        if value > threshold
    ]
