"""The scoring output contract: the columns of `payrisk score`, their kinds, and the cash forecast's groupings.

Defined once here; the ScoringBundle produces these columns in this order, the store's `scores` table, the API's
`InvoiceScorePublic`, the MLflow pyfunc and the CLI's CSV writer are all derived from this module, so a column
added or renamed here reaches every reader (tests pin that the Alembic migration agrees).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from features.labels import HORIZON_WEEKS

ScoreKind = Literal["id", "text", "currency", "date", "money", "days", "probability", "base_amount", "rank", "reasons"]
"""How a score column is typed: ids/text/currency are strings, dates day-precision (datetime64[s] in a frame, a
date in the store and the API), money and base_amount float in the frame (money exact to 4 decimals in the store),
days and rank int64, probability a float in [0, 1], reasons one '; '-separated string."""


@dataclass(frozen=True)
class ScoreColumn:
    name: str
    kind: ScoreKind
    nullable: bool = False
    doc: str = ""


WEEK_COLUMNS: list[str] = [f"p_pay_week_{k}" for k in range(1, HORIZON_WEEKS + 1)]
"""P(settled in week k after as_of), k = 1 .. HORIZON_WEEKS (weeks of 7 days: days 1-7, 8-14, ...); each is the
sum of the daily distribution over its days (training.days)."""

SCORE_CONTRACT: tuple[ScoreColumn, ...] = (
    ScoreColumn("invoice_id", "id"),
    ScoreColumn("customer_id", "id"),
    ScoreColumn("as_of", "date", doc="the end of the day the invoice was scored as of"),
    ScoreColumn("open_amount", "money", doc="open amount in the invoice currency"),
    ScoreColumn("currency", "currency"),
    ScoreColumn("open_amount_base", "money", doc="open amount in the base currency, rounded to the cent"),
    ScoreColumn("days_past_due", "days", doc="as_of - due date, in days (negative: not yet due)"),
    ScoreColumn(
        "pay_date_median_within_horizon",
        "date",
        nullable=True,
        doc="the point pay date: the median pay date given settlement within the horizon weeks (it minimises the "
        "expected absolute error in days among them), on a business day; empty when that has probability 0. Read "
        "with p_pay_later. Was expected_pay_date (the mean of week middles, often a weekend) until revision 0003",
    ),
    ScoreColumn("pay_date_p10", "date", nullable=True, doc="first business day by which P(settled) >= 0.1"),
    ScoreColumn("pay_date_p50", "date", nullable=True, doc="first business day by which P(settled) >= 0.5"),
    ScoreColumn("pay_date_p90", "date", nullable=True, doc="first business day by which P(settled) >= 0.9"),
    *(ScoreColumn(name, "probability") for name in WEEK_COLUMNS),
    ScoreColumn("p_pay_later", "probability", doc="P(not settled within the horizon weeks)"),
    ScoreColumn("p_default", "probability", nullable=True, doc="empty when the model has no default model"),
    ScoreColumn("expected_loss", "base_amount", nullable=True, doc="open_amount_base x p_default x loss given default"),
    ScoreColumn("priority_rank", "rank", doc="1 = work first (largest expected loss)"),
    ScoreColumn("reasons", "reasons", nullable=True),
    ScoreColumn(
        "p_late",
        "probability",
        nullable=True,
        doc="P(settled after the due date), from the daily distribution; settlement after the horizon counts as "
        "late, and an invoice already due by as_of is late (1). Always given by the bundle; empty only in scores "
        "stored before revision 0003",
    ),
    ScoreColumn(
        "p_late_30", "probability", nullable=True, doc="P(settled more than 30 days after the due date), likewise"
    ),
)

SCORE_COLUMNS: list[str] = [c.name for c in SCORE_CONTRACT]
"""The output columns of `payrisk score`, in order (other tools read these columns). Lists, so that they index
DataFrames directly; never mutate them."""


def _of_kind(*kinds: str) -> list[str]:
    return [c.name for c in SCORE_CONTRACT if c.kind in kinds]


SCORE_DATE_COLUMNS = _of_kind("date")
PROBABILITY_COLUMNS = _of_kind("probability")
MONEY_COLUMNS = _of_kind("money")
INTEGER_COLUMNS = _of_kind("days", "rank")
TEXT_COLUMNS = _of_kind("id", "currency", "text", "reasons")


class ForecastGroup(StrEnum):
    """What the weekly cash forecast can be grouped by (CLI `--group-by`, API `?group_by=`)."""

    CURRENCY = "currency"
    SEGMENT = "segment"
    COLLECTOR = "collector"
    CUSTOMER = "customer_id"


FORECAST_GROUP_SOURCES: dict[ForecastGroup, str] = {
    ForecastGroup.SEGMENT: "segment",
    ForecastGroup.COLLECTOR: "collector_id",
}
"""Groupings that are not score columns: the customers column each is read from."""
