"""Benchmark of the period close and the monthly package on a simulated ledger: compute_close's and
package_figures' wall time, and the rendering of the HTML, workbook and PDF.

    .venv/bin/python benchmarks/bench_close.py                          # 1,000 customers x 24 months (make demo's)
    .venv/bin/python benchmarks/bench_close.py --customers 5000 --months 24

P(default) is drawn at random (uniform 0-0.3) for the invoices open at the period end: the timing is the close's
own (aging, KPIs, the 12 month-ends of the provision matrix, the pools), not the model's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate
from serving.services.close import CloseInputs, compute_close, last_full_period, period_bounds
from serving.services.kpis import open_book
from serving.services.package import PackageInputs, package_figures
from serving.services.package_render import PackageRenderError, render_html, render_pdf, render_xlsx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ledger = Ledger.from_tables(simulate(customers=args.customers, months=args.months, seed=args.seed))
    period = last_full_period(ledger.known_until)
    _, end = period_bounds(period)
    book = open_book(ledger, end)
    rng = np.random.default_rng(0)
    scores = pd.DataFrame({"invoice_id": book["invoice_id"], "p_default": rng.uniform(0, 0.3, len(book))})
    print(f"ledger: {len(ledger.invoices):,} invoices, {len(ledger.payments):,} payments; close of {period}")
    for basis, by in (("model", None), ("matrix", "segment")):
        started = time.perf_counter()
        figures = compute_close(ledger, scores, CloseInputs(period, basis=basis, matrix_by=by))
        seconds = time.perf_counter() - started
        print(
            f"compute_close basis={basis} matrix_by={by}: {seconds:.2f} s, {len(book):,} open invoices, "
            f"{len(figures['model_ecl']['pools'])} pools, allowance {figures['allowance']['closing']}"
        )
    started = time.perf_counter()
    package = package_figures(ledger, period, PackageInputs(period_end_scores=None))
    print(f"package_figures (13-month trend): {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    html = render_html(package)
    print(f"render_html (3 charts): {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    render_xlsx(package)
    print(f"render_xlsx: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    try:
        pdf = render_pdf(html)
        print(f"render_pdf: {time.perf_counter() - started:.2f} s, {len(pdf) / 1024:.0f} KB")
    except PackageRenderError as exc:
        print(f"render_pdf: not available ({exc})")


if __name__ == "__main__":
    main()
