"""The feature catalog documents exactly what the code produces, and docs/features.md is its output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.build import ID_COLUMNS, build_features
from features.catalog import (
    CATEGORICAL,
    CONTEXT_ONLY,
    MODEL_FEATURES,
    SNAPSHOT_FEATURES,
    WEEK_FEATURE_DOCS,
    markdown_table,
)
from features.ledger.ledger import Ledger
from features.weeks import WEEK_FEATURES, expand_weeks
from tests.support.ledgers import tiny_tables

DOCS = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def tiny() -> Ledger:
    return Ledger.from_tables({name: pd.DataFrame(rows) for name, rows in tiny_tables().items()})


def test_catalog_documents_exactly_the_built_columns_in_order():
    rows = build_features(tiny(), ["2024-02-15", "2024-03-01"])
    assert len(rows) > 0
    assert list(rows.columns) == ID_COLUMNS + list(SNAPSHOT_FEATURES)


def test_no_rows_still_have_every_column():
    rows = build_features(tiny(), "2023-06-30")  # before the first invoice
    assert len(rows) == 0
    assert list(rows.columns) == ID_COLUMNS + list(SNAPSHOT_FEATURES)


def test_catalog_documents_exactly_the_week_features():
    assert list(WEEK_FEATURE_DOCS) == WEEK_FEATURES
    _, weeks, _ = expand_weeks(build_features(tiny(), "2024-03-01"))
    assert list(weeks.columns) == WEEK_FEATURES


def test_every_entry_has_a_unit_and_a_meaning():
    for name, (unit, meaning) in {**SNAPSHOT_FEATURES, **WEEK_FEATURE_DOCS}.items():
        assert unit.strip() and meaning.strip(), name
        assert "|" not in unit + meaning, name  # would break the Markdown table


def test_model_features_leave_out_the_context_columns():
    assert set(CONTEXT_ONLY) <= set(SNAPSHOT_FEATURES)
    assert set(CATEGORICAL) <= set(MODEL_FEATURES)
    assert [name for name in SNAPSHOT_FEATURES if name not in CONTEXT_ONLY] == MODEL_FEATURES


def test_docs_features_md_is_the_generated_table():
    assert DOCS.read_text(encoding="utf-8") == markdown_table(), (
        "docs/features.md is stale: run `python -m features.catalog > docs/features.md`"
    )
    for name in [*SNAPSHOT_FEATURES, *WEEK_FEATURE_DOCS]:
        assert f"| `{name}` |" in markdown_table()
