"""`payrisk score --as-of` with several dates: one file whose rows per date equal a separate run for that date."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from typer.testing import CliRunner

from payrisk.cli import app
from tests.support.mlflow import isolate, reset_mlflow
from training.contract import SCORE_COLUMNS


@pytest.fixture
def isolated(tmp_path) -> Iterator[dict[str, str]]:
    from serving.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        yield isolate(patch, tmp_path / "env")
        reset_mlflow()
    get_settings.cache_clear()


def _score(trained, bundle_path, as_of: str, out) -> pd.DataFrame:
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--ledger",
            str(trained.ledger_dir),
            "--as-of",
            as_of,
            "--out",
            str(out),
            "--model",
            str(bundle_path),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, keep_default_na=False, dtype={"reasons": "str"})


def test_a_list_and_a_range_equal_the_runs_of_each_date(trained, tmp_path, isolated):
    bundle_path = trained.bundle.save(tmp_path / "bundle.joblib")
    end = trained.as_of
    start = end - pd.Timedelta(days=6)  # a week: five business days
    together = _score(trained, bundle_path, f"{start.date()}..{end.date()}", tmp_path / "range.csv")
    days = list(dict.fromkeys(together["as_of"]))
    assert len(days) == 5 and all(pd.Timestamp(d).day_of_week < 5 for d in days)
    assert list(together.columns) == SCORE_COLUMNS
    for day in days:
        alone = _score(trained, bundle_path, day, tmp_path / f"{day}.csv")
        assert len(alone) > 0
        block = together[together["as_of"] == day].reset_index(drop=True)
        pd.testing.assert_frame_equal(block, alone)
    listed = _score(trained, bundle_path, f"{days[3]},{days[0]}", tmp_path / "list.csv")
    assert list(dict.fromkeys(listed["as_of"])) == [days[3], days[0]]
    expected = pd.concat([together[together["as_of"] == d] for d in (days[3], days[0])], ignore_index=True)
    pd.testing.assert_frame_equal(listed, expected)


def test_a_bad_date_in_a_list_exits_2_before_loading(tmp_path):
    result = CliRunner().invoke(
        app,
        ["score", "--ledger", "/nonexistent", "--as-of", "2024-03-29,2024-02-30", "--out", str(tmp_path / "x.csv")],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 2 and "2024-02-30" in result.output
