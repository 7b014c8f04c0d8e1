"""Scoring models: the per-invoice scores of `payrisk score`, scoring runs, the current model, the cash forecast."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from serving.api.schemas.common import AsOfDate, DecimalText, Identifier, ProblemPublic
from serving.api.schemas.ledger import ROW_IN
from training.contract import SCORE_CONTRACT, WEEK_COLUMNS, ForecastGroup, ScoreColumn

Probability = Annotated[float, Field(ge=0, le=1)]


SCORE_FIELD_TYPES: dict[str, Any] = {
    "id": str,
    "text": str,
    "currency": str,
    "date": dt.date,
    "money": DecimalText,
    "base_amount": float,
    "days": int,
    "rank": int,
    "probability": Probability,
    "reasons": list[str],
}
"""The API type of each kind of score column (training.contract.ScoreKind); reasons are split into phrases. Money
(open_amount, open_amount_base) is a decimal string; expected_loss (base_amount, a model estimate) a number."""


def _score_field(column: ScoreColumn) -> tuple[Any, Any]:
    kind = SCORE_FIELD_TYPES[column.kind]
    if column.kind == "reasons":  # never null in the API: an empty list when there are none
        return (kind, Field(..., description=column.doc or None))
    return (kind | None if column.nullable else kind, Field(..., description=column.doc or None))


InvoiceScorePublic = create_model(
    "InvoiceScorePublic", **{column.name: _score_field(column) for column in SCORE_CONTRACT}
)
InvoiceScorePublic.__doc__ = (
    f"One open invoice's scores: P(paid in week k after as_of) for {len(WEEK_COLUMNS)} weeks and later, "
    "P(default), expected loss (base currency), and the reasons behind them (the columns of `payrisk score`). "
    "P(default) and expected loss are null when the model has no default model (its training ledger held no default)."
)


MAX_SCORE_INVOICES = 10_000
"""Invoices per POST /v1/score (given, or asked for by id)."""
MAX_SCORE_ROWS = 50_000
"""Rows of each other table given with them."""


InvoicesRows, CustomersRows, PaymentsRows, AdjustmentsRows, DisputesRows, PromisesRows = (
    list[ROW_IN[name]] for name in ("invoices", "customers", "payments", "adjustments", "disputes", "promises")
)


def _given(limit: int, help_text: str, min_length: int = 0) -> Any:
    return Field(None, min_length=min_length, max_length=limit, description=help_text)


class ScoreRequest(BaseModel):
    """What to score: invoices GIVEN here (with, optionally, rows of their customers, payments, adjustments, disputes
    and promises), merged in memory with the stored history of their customers; or stored open invoices by id or
    customer; or, with neither, the whole stored open book. Nothing is stored."""

    as_of: AsOfDate | None = Field(
        None, description="Default: the ledger's last fact date (given rows included); a later date is refused (422)."
    )
    invoice_ids: Annotated[list[Identifier], Field(max_length=MAX_SCORE_INVOICES)] | None = Field(
        None, description="Score these stored invoices (those open at as_of)."
    )
    customer_ids: Annotated[list[Identifier], Field(max_length=MAX_SCORE_INVOICES)] | None = Field(
        None, description="Score the stored open invoices of these customers."
    )
    invoices: InvoicesRows | None = _given(
        MAX_SCORE_INVOICES,
        "Invoices to score (contract columns: invoice_id, customer_id, invoice_date, "
        "due_date, amount, currency), validated like POST /v1/ledger; their customers must be stored or given.",
        min_length=1,
    )
    customers: CustomersRows | None = _given(
        MAX_SCORE_ROWS, "Customers of the given invoices that the store does not hold (or new values)."
    )
    payments: PaymentsRows | None = _given(MAX_SCORE_ROWS, "Payments of the given invoices (or of stored ones).")
    adjustments: AdjustmentsRows | None = _given(MAX_SCORE_ROWS, "Credit memos and write-offs.")
    disputes: DisputesRows | None = _given(MAX_SCORE_ROWS, "Disputes.")
    promises: PromisesRows | None = _given(MAX_SCORE_ROWS, "Promises to pay.")

    @model_validator(mode="after")
    def _one_way_of_asking(self) -> ScoreRequest:
        others = [name for name in GIVEN_WITH_INVOICES if getattr(self, name) is not None]
        if self.invoices is None and others:
            raise ValueError(
                f"{', '.join(others)} rows are only accepted with the invoices they belong to (give `invoices`)"
            )
        if self.invoices is not None and (self.invoice_ids is not None or self.customer_ids is not None):
            raise ValueError(
                "give either `invoices` (scored from the request) or `invoice_ids`/`customer_ids` "
                "(stored invoices), not both"
            )
        return self


GIVEN_WITH_INVOICES = ("customers", "payments", "adjustments", "disputes", "promises")


class ScoreResponse(BaseModel):
    as_of: dt.date
    model_version: str
    ledger_fingerprint: str = Field(
        description="The stored ledger's fingerprint as of as_of (rows given in the request are not part of it)."
    )
    scores: list[InvoiceScorePublic] = Field(
        description="One row per invoice asked for and open at as_of; priority_rank ranks these rows only."
    )
    not_open: list[str] = Field(
        [],
        description="Invoices asked for that have no score: not open at the end of "
        "as_of (not issued yet, settled or written off), or unknown.",
    )
    warnings: list[ProblemPublic] = Field([], description="Warnings the validator found on the given rows.")


class ScoringRunCreate(BaseModel):
    as_of: AsOfDate | None = Field(
        None, description="Default: the ledger's last fact date; a later date is refused (422)."
    )


class ScoringRunPublic(BaseModel):
    id: int
    as_of: dt.date
    model_version: str
    ledger_fingerprint: str
    status: Literal["running", "succeeded", "failed"]
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    row_count: int
    created_by: str


class ModelPublic(BaseModel):
    loaded: bool
    version: str | None
    info: dict[str, Any]


class ForecastWeekPublic(BaseModel):
    group: str | None = Field(None, description="The group's value when grouped (e.g. the currency).")
    week: int
    week_start: dt.date
    week_end: dt.date
    expected_cash_base: float
    p10_cash_base: float
    p50_cash_base: float
    p90_cash_base: float
    expected_later_base: float
    open_amount_base: float


class CashForecastPublic(BaseModel):
    scoring_run_id: int
    as_of: dt.date
    model_version: str
    group_by: ForecastGroup | None
    formula: str
    weeks: list[ForecastWeekPublic]


ScoringRunId = Annotated[int, Field(ge=1, le=2**31 - 1)]
CustomerFilter = Identifier
