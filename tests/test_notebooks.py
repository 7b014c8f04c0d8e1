"""The notebooks run: every notebook in notebooks/ is executed top to bottom on small simulated data (nbclient, a
real kernel), and the committed notebooks carry no outputs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
SMALL = {
    "PAYRISK_NOTEBOOK_CUSTOMERS": "120",
    "PAYRISK_NOTEBOOK_MONTHS": "15",
    "PAYRISK_NOTEBOOK_ROUNDS": "30",
    "PAYRISK_NOTEBOOK_THREADS": "1",
}
"""What the notebooks read to run small (each notebook's first code cell)."""
CELL_TIMEOUT_SECONDS = 600


def test_the_four_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_backtest.ipynb",
        "02_explore_ledger.ipynb",
        "03_challenger.ipynb",
        "04_monitoring.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebooks_have_no_outputs(path):
    import nbformat

    book = nbformat.read(path, as_version=4)
    for index, cell in enumerate(book.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} cell {index} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_import_only_from_the_packages(path):
    import nbformat

    ours = {"features", "training", "serving", "payrisk"}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]):
                module = words[1].split(".")[0]
                assert (
                    module in ours
                    or module in sys.stdlib_module_names
                    or module
                    in {
                        "numpy",
                        "pandas",
                        "mlflow",
                    }
                ), f"{path.name}: {line}"
                assert module != "tests", f"{path.name} imports test helpers: {line}"


@pytest.mark.slow
@pytest.mark.mlflow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_small_data(path, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    repository = str(path.parents[1])
    for name, value in SMALL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([repository, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):  # notebook 03 makes its own store
        monkeypatch.delenv(name, raising=False)
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError naming the cell and the traceback
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
