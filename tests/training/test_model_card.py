"""The model card's markdown, from a bundle's meta (the holdout case is tested through the registry, in
tests/payrisk/commands/test_model_card.py)."""

from __future__ import annotations

import pandas as pd

from training.model_card import markdown_table, model_card


def test_a_card_without_holdout_says_so_and_lists_what_it_was_trained_on(trained):
    meta = trained.bundle.meta
    card = model_card(meta, "payment-risk", "3", "abc123")
    assert card.startswith("# Model card: payment-risk version 3\n")
    assert f"`{meta['ledger_fingerprint']}`" in card
    start = (trained.as_of - pd.Timedelta(days=trained.config.window_days)).date()
    assert f"from {start} to {trained.as_of.date()}" in card
    assert f"## Features ({len(meta['features'])})" in card and "`hist_days_late_mean`" in card
    assert "Not measured: trained with `--no-holdout`" in card
    assert "Cold start" in card


def test_markdown_table_cells():
    table = pd.DataFrame({"model": [0.5, float("nan")], "model_wins": [True, False]}, index=["a", "b"])
    assert markdown_table(table, "metric").splitlines() == [
        "| metric | model | model_wins |",
        "|---|---|---|",
        "| a | 0.5000 | yes |",
        "| b |  | no |",
    ]
