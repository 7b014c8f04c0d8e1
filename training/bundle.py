"""ScoringBundle: preprocessing, both LightGBM models and their calibrators in one object, and THE scoring function.

`ScoringBundle.score(ledger, as_of)` is what the CLI, the batch run, the API and the MLflow pyfunc all call, so all
four give the same numbers for the same input.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from features.build import FeatureConfig, build_features
from features.calendar import closing_day_numbers
from features.days import NO_DAY, from_days
from features.labels import HORIZON_WEEKS
from features.ledger.contract import DATE_DTYPE
from features.ledger.ledger import Ledger
from training.cashflow import CashCorrelations
from training.compiled import CompileUnavailable
from training.contract import SCORE_COLUMNS, WEEK_COLUMNS
from training.days import DaySpread
from training.explain import reasons as explain_reasons
from training.models import DefaultModel, TimingModel
from training.preprocess import Preprocessor

__all__ = ["SCORE_COLUMNS", "WEEK_COLUMNS", "ScoringBundle"]


class ScoringBundle:
    """Everything needed to score: `score(ledger, as_of)` or `score_rows(feature_rows)`."""

    def __init__(
        self,
        preprocessor: Preprocessor,
        timing: TimingModel,
        default: DefaultModel | None,
        meta: dict,
        day_spread: DaySpread | None = None,
    ):
        """`default` is None when the training window held no known default: p_default and expected_loss are NaN.
        `day_spread` spreads each week over its business days (training.days); unfitted when not given."""
        self.preprocessor = preprocessor
        self.timing = timing
        self.default = default
        self.meta = dict(meta)
        self.day_spread = day_spread or DaySpread(closing_days=tuple(self.meta.get("closing_days", ())))

    def __setstate__(self, state: dict) -> None:
        """Bundles pickled before the daily spread existed get an unfitted one (weekday pattern, business days)."""
        self.__dict__.update(state)
        if "day_spread" not in state:
            self.day_spread = DaySpread(closing_days=tuple(self.meta.get("closing_days", ())))

    @property
    def closing_days(self) -> tuple[str, ...]:
        """Company closing days (ISO dates): non-business days for the week features and the daily spread."""
        return tuple(self.day_spread.closing_days)

    def set_closing_days(self, closing_days: Iterable[object]) -> None:
        """Use these closing days (dates or ISO strings) from now on, in the feature rows, weeks and days alike."""
        days = tuple(str(d) for d in from_days(np.asarray(closing_day_numbers(closing_days), np.int64)).dt.date)
        self.day_spread.closing_days = days
        self.timing.closing_days = days

    def feature_config(self) -> FeatureConfig:
        return FeatureConfig(closing_days=self.closing_days)

    def feature_rows(self, ledger: Ledger, as_of: pd.Timestamp) -> pd.DataFrame:
        """`build_features` of the ledger cut at `as_of`, with this bundle's closing days."""
        return build_features(ledger.as_of(as_of), as_of, self.feature_config())

    @property
    def version(self) -> str | None:
        return self.meta.get("model_version")

    @property
    def cash_correlations(self) -> CashCorrelations:
        """The cash bands' copula correlations estimated at training time; the fixed ones for older bundles."""
        stored = self.meta.get("cash_correlations")
        return CashCorrelations(**stored) if stored else CashCorrelations()

    def set_threads(self, num_threads: int) -> None:
        self.timing.num_threads = num_threads
        if self.default is not None:
            self.default.num_threads = num_threads

    def compile(self, cache_dir: Path | str) -> dict[str, str]:
        """Predict through compiled boosters (training.compiled, cached in `cache_dir`): the same scores, faster.
        Per model, "compiled <key>" or why it stays on LightGBM; never raises for a compiler problem."""
        status = {}
        for name, model in (("timing", self.timing), ("default", self.default)):
            if model is None:
                continue
            try:
                model.compile(cache_dir)
                status[name] = f"compiled {model.compiled_.key}"
            except CompileUnavailable as exc:
                status[name] = f"LightGBM: {exc}"
        return status

    def score(self, ledger: Ledger, as_of: pd.Timestamp, with_reasons: bool = True) -> pd.DataFrame:
        """Score every invoice open at the end of day `as_of`, from what the ledger knew then.

        `as_of` is a day-precision Timestamp (parse user input with `features.dates.parse_as_of` at the edge). The
        ledger is cut at `as_of` first, so a complete ledger and one cut off at `as_of` give identical output.
        """
        return self.score_rows(self.feature_rows(ledger, as_of), with_reasons=with_reasons)

    def score_rows(
        self, rows: pd.DataFrame, with_reasons: bool = True, loss_given_default: float | None = None
    ) -> pd.DataFrame:
        """Scores for feature rows produced by `features.build.build_features`."""
        lgd = self.meta.get("loss_given_default", 1.0) if loss_given_default is None else loss_given_default
        matrix = self.preprocessor.transform(rows)
        proba = self.timing.predict_proba(rows, matrix)
        p_default = np.full(len(rows), np.nan) if self.default is None else self.default.predict_default(rows, matrix)
        as_of = rows["as_of"].to_numpy(dtype=DATE_DTYPE) if len(rows) else np.array([], dtype=DATE_DTYPE)
        out = pd.DataFrame(
            {
                "invoice_id": rows["invoice_id"].to_numpy(),
                "customer_id": rows["customer_id"].to_numpy(),
                "as_of": as_of,
                "open_amount": rows["open_amount"].to_numpy(dtype=np.float64),
                "currency": rows["currency"].to_numpy(),
                "open_amount_base": rows["open_amount_base"].to_numpy(dtype=np.float64).round(2),
                "days_past_due": rows["days_past_due"].to_numpy(dtype=np.float64).astype(np.int64),
            }
        )
        readouts = self.day_spread.readouts(rows, proba)
        for name, key in (
            ("pay_date_median_within_horizon", "median_within_horizon"),
            ("pay_date_p10", "p10"),
            ("pay_date_p50", "p50"),
            ("pay_date_p90", "p90"),
        ):
            days = np.where(np.isfinite(readouts[key]), readouts[key], float(NO_DAY)).astype(np.int64)
            out[name] = from_days(days).astype(DATE_DTYPE).to_numpy()
        for k, column in enumerate(WEEK_COLUMNS):
            out[column] = proba[:, k]
        out["p_pay_later"] = proba[:, HORIZON_WEEKS]
        out["p_default"] = p_default
        out["expected_loss"] = out["open_amount_base"] * p_default * lgd
        order = np.lexsort(
            (
                out["invoice_id"].to_numpy(dtype=str),
                -out["open_amount_base"].to_numpy(),
                -np.nan_to_num(out["expected_loss"].to_numpy(), nan=0.0),
            )
        )
        rank = np.empty(len(out), dtype=np.int64)
        rank[order] = np.arange(1, len(out) + 1)
        out["priority_rank"] = rank
        out["p_late"] = readouts["p_late"]
        out["p_late_30"] = readouts["p_late_30"]
        if with_reasons and len(rows) and self.default is not None:
            contributions = self.default.contributions(rows, matrix)
            out["reasons"] = explain_reasons(rows, contributions, self.default.feature_names_)
        else:
            out["reasons"] = ""
        return out[SCORE_COLUMNS]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path)
        return path

    @staticmethod
    def load(path: str | Path) -> ScoringBundle:
        bundle = joblib.load(Path(path))
        if not isinstance(bundle, ScoringBundle):
            raise TypeError(f"{path} does not hold a ScoringBundle")
        return bundle
