"""Engines and the as-of rule on a simulated ledger; the `payrisk features` command."""

from __future__ import annotations

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from features.build import ID_COLUMNS, build_features
from features.catalog import SNAPSHOT_FEATURES
from features.engine import LocalEngine, build, partition_by_customer
from features.labels import build_labels
from features.ledger.io import ROW_COLUMN
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate, write_ledger
from features.snapshots import as_of_grid
from payrisk.commands.features import features
from tests.support.assertions import assert_same_rows
from tests.support.ledgers import tiny_tables, write_tables


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return simulate(customers=80, months=12, seed=3)


@pytest.fixture(scope="module")
def ledger(tables) -> Ledger:
    return Ledger.from_tables(tables)


@pytest.fixture(scope="module")
def grid(ledger) -> list[pd.Timestamp]:
    end = ledger.known_until
    return as_of_grid(end - pd.Timedelta(days=182), end, every_days=14)


def test_partitions_give_exactly_the_rows_of_one_partition(ledger, grid):
    whole = build(ledger, grid)
    assert len(whole) > 1000
    for partitions in (3, 7):
        parts = build(ledger, grid, engine=LocalEngine(partitions=partitions))
        assert_same_rows(whole, parts)
    assert_same_rows(whole, build_features(ledger, grid))


def test_partition_by_customer_keeps_every_row_exactly_once(ledger):
    parts = partition_by_customer(ledger, 3)
    assert len(parts) == 3
    for name, frame in ledger.tables.items():
        if name == "fx_rates":  # every partition gets all of the rates
            for part in parts:
                assert part.fx_rates[ROW_COLUMN].tolist() == frame[ROW_COLUMN].tolist()
            continue
        rows = pd.concat([part.tables[name][ROW_COLUMN] for part in parts])
        assert sorted(rows.tolist()) == sorted(frame[ROW_COLUMN].tolist()), name
        assert rows.is_unique, name
    # a customer's invoices and their facts live in the customer's partition
    for part in parts:
        customers = set(part.customers["customer_id"])
        assert len(customers) > 0
        assert set(part.invoices["customer_id"]) <= customers
        invoices = set(part.invoices["invoice_id"])
        for name in ("payments", "adjustments", "disputes", "promises"):
            assert set(part.tables[name]["invoice_id"]) <= invoices, name
        assert part.known_until == ledger.known_until and part.default_days == ledger.default_days


@pytest.mark.parametrize("offset_days", [0, 45, 120, 250, 364])
def test_rows_at_t_equal_rows_from_the_ledger_truncated_at_t(ledger, offset_days):
    """The as-of rule on a realistic ledger (a regression test beside the property tests)."""
    as_of = ledger.known_until - pd.Timedelta(days=offset_days)
    full = build_features(ledger, as_of)
    truncated = build_features(ledger.as_of(as_of), as_of)
    assert len(full) > 0
    assert_same_rows(full, truncated)


def test_a_grid_equals_its_dates_one_by_one(ledger, grid):
    together = build_features(ledger, grid[-3:])
    one_by_one = pd.concat([build_features(ledger, t) for t in grid[-3:]], ignore_index=True)
    assert_same_rows(together, one_by_one)


# --------------------------------------------------------------------------- the command
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("features")(features)
    app.command("noop")(lambda: None)  # two commands: `features` is then named on the command line
    return app


def test_command_writes_scoring_rows(tmp_path):
    ledger_dir = write_tables(tiny_tables(), tmp_path / "ledger")
    out = tmp_path / "rows.parquet"
    result = CliRunner().invoke(
        cli(), ["features", "--ledger", str(ledger_dir), "--as-of", "2024-03-01", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_parquet(out)
    assert list(rows.columns) == ID_COLUMNS + list(SNAPSHOT_FEATURES)  # no labels when scoring
    expected = build_features(Ledger.load(ledger_dir), "2024-03-01")
    assert rows["invoice_id"].tolist() == expected["invoice_id"].tolist() == ["I2", "I3", "I4"]
    assert "rows" in result.output and "rows/s" in result.output


def test_command_writes_training_rows_with_labels(tmp_path, tables):
    ledger_dir = tmp_path / "ledger"
    write_ledger(tables, ledger_dir)
    out = tmp_path / "train.csv"
    loaded = Ledger.load(ledger_dir)
    end = loaded.known_until.strftime("%Y-%m-%d")
    result = CliRunner().invoke(
        cli(),
        [
            "features",
            "--ledger",
            str(ledger_dir),
            "--as-of",
            end,
            "--train-window",
            "56",
            "--every",
            "14",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out, parse_dates=["as_of"])
    grid = as_of_grid(loaded.known_until - pd.Timedelta(days=56), loaded.known_until, 14)
    assert sorted(rows["as_of"].unique()) == grid  # 5 as-of dates, every 14 days, ending at --as-of
    expected = build_features(loaded, grid)
    labels = build_labels(loaded, expected)
    assert list(rows.columns) == list(expected.columns) + list(labels.columns[2:])
    assert len(rows) == len(expected)
    assert rows["week_class"].isna().sum() == labels["week_class"].isna().sum()
    # --no-labels
    result = CliRunner().invoke(
        cli(),
        [
            "features",
            "--ledger",
            str(ledger_dir),
            "--as-of",
            end,
            "--train-window",
            "14",
            "--no-labels",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "week_class" not in pd.read_csv(out, nrows=1).columns


def test_command_exits_1_on_an_invalid_ledger(tmp_path):
    broken = tiny_tables()
    broken["payments"][0]["invoice_id"] = "NO_SUCH_INVOICE"
    ledger_dir = write_tables(broken, tmp_path / "ledger")
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(
        cli(), ["features", "--ledger", str(ledger_dir), "--as-of", "2024-03-01", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "error" in result.output and "payrisk validate" in result.output
    assert not out.exists()


@pytest.mark.parametrize(("args", "hint"), [(["--out", "rows.json"], "--out"), (["--as-of", "not a date"], "--as-of")])
def test_command_rejects_bad_options(tmp_path, args, hint):
    ledger_dir = write_tables(tiny_tables(), tmp_path / "ledger")
    options = {"--ledger": str(ledger_dir), "--as-of": "2024-03-01", "--out": str(tmp_path / "rows.csv")}
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = CliRunner().invoke(cli(), ["features", *[x for pair in options.items() for x in pair]])
    assert result.exit_code == 2
    assert hint in result.output
