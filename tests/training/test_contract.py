"""`payrisk score` output is pinned: the contract's columns, in order, with one dtype per kind of column."""

from __future__ import annotations

import pandas as pd

from payrisk.commands.model import _write
from training.bundle import SCORE_COLUMNS as BUNDLE_SCORE_COLUMNS
from training.contract import SCORE_COLUMNS, SCORE_CONTRACT, WEEK_COLUMNS

DTYPE_OF_KIND = {
    "id": "str",
    "currency": "str",
    "reasons": "str",
    "date": "datetime64[s]",
    "money": "float64",
    "base_amount": "float64",
    "probability": "float64",
    "days": "int64",
    "rank": "int64",
}


def test_the_contract_has_thirteen_week_columns_between_the_dates_and_later():
    assert [f"p_pay_week_{k}" for k in range(1, 14)] == WEEK_COLUMNS
    start = SCORE_COLUMNS.index("p_pay_week_1")
    assert SCORE_COLUMNS[start - 1] == "pay_date_p90" and SCORE_COLUMNS[start + 13] == "p_pay_later"
    assert BUNDLE_SCORE_COLUMNS is SCORE_COLUMNS


def test_scores_have_the_contract_columns_in_order_with_their_dtypes(scores):
    assert list(scores.columns) == SCORE_COLUMNS
    dtypes = {c.name: DTYPE_OF_KIND[c.kind] for c in SCORE_CONTRACT}
    assert {name: str(dtype) for name, dtype in scores.dtypes.items()} == dtypes


def test_the_csv_has_the_contract_header_and_iso_dates(scores, tmp_path):
    out = tmp_path / "scores.csv"
    _write(scores, out)
    header = out.read_text().splitlines()[0]
    assert header == ",".join(SCORE_COLUMNS)
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back["as_of"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert (back["pay_date_p90"].eq("") | back["pay_date_p90"].str.fullmatch(r"\d{4}-\d{2}-\d{2}")).all()
