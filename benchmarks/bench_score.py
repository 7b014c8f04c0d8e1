"""Benchmark of scoring: every invoice open at the end of a large ledger, as `payrisk score` does it.

    .venv/bin/python benchmarks/bench_score.py [--bundle PATH] [--customers 10000 --months 24] [--threads 2]

The bundle is trained once on a mid-size simulated ledger with the default TrainConfig (or loaded from --bundle,
e.g. one saved by `bench_train.py --save`). The scored ledger (10,000 customers over 24 months: about 100k open
invoices at its last day) is simulated with another seed (not counted). Reported, per repeat:
(a) `ScoringBundle.score(..., with_reasons=False)`: features + probabilities + dates + ranks, invoices/s;
(b) the same with reasons (LightGBM `pred_contrib` + phrasing), invoices/s;
(c) the split: features (as-of cut, settlement status, build_features), model matrix, timing model (week rows,
booster predict), default predict, contributions, reason phrasing;
(d) with `--compiled DIR`: both boosters compiled with lleaves (training.compiled, cached in DIR; the compile time is
printed), (a) again through them, and the timing model's predict on the same week rows by LightGBM and by the
compiled forest side by side, with the largest difference between the two.
Each run scores a fresh Ledger object (same tables), so it pays for the settlement status like a CLI run does.
Target: >= 100,000 invoices/s for (a), features included. Peak memory is `ru_maxrss`. The machine may be shared:
the 1-minute load average is printed beside each figure.
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.build import build_features
from features.labels import HORIZON_WEEKS
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate
from features.weeks import WEEK_FEATURES, week_features
from training.bundle import ScoringBundle
from training.explain import reasons as explain_reasons
from training.models import hazards_to_distribution
from training.preprocess import with_extra
from training.train import TrainConfig, fit_bundle

TARGET_INVOICES_PER_S = 100_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


class Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now


def fresh(ledger: Ledger) -> Ledger:
    """The same tables without the cached settlement status: every measured run pays for it, as `payrisk score`
    on a freshly loaded ledger does."""
    return Ledger(
        dict(ledger.tables),
        base_currency=ledger.base_currency,
        default_days=ledger.default_days,
        known_until=ledger.known_until,
    )


def split(bundle: ScoringBundle, ledger: Ledger, as_of) -> tuple[int, dict[str, float]]:
    """The steps of `score` one by one (same calls, same order)."""
    clock = Clock()
    cut = ledger.as_of(as_of)
    clock.lap("features: as-of cut")
    cut.settlement  # noqa: B018 -- computed once per ledger and cached; part of building features
    clock.lap("features: settlement status")
    rows = build_features(cut, as_of)
    clock.lap("features: build_features")
    matrix = bundle.preprocessor.transform(rows)
    clock.lap("model matrix")
    timing = bundle.timing
    n = len(rows)
    position = np.repeat(np.arange(n), HORIZON_WEEKS)
    weeks = np.tile(np.arange(1, HORIZON_WEEKS + 1), n)
    x = with_extra(matrix, position, week_features(rows, position, weeks)[WEEK_FEATURES])
    clock.lap("timing: week rows")
    hazard = timing.booster_.predict(x, num_threads=timing.num_threads)
    clock.lap("timing: booster predict")
    if timing.calibrator_ is not None:
        hazard = timing.calibrator_.transform(hazard)
    hazards_to_distribution(np.clip(hazard, 0.0, 1.0).reshape(n, HORIZON_WEEKS))
    clock.lap("timing: calibration + distribution")
    del x
    bundle.default.predict_default(rows, matrix)
    clock.lap("default predict")
    contributions = bundle.default.contributions(rows, matrix)
    clock.lap("contributions (pred_contrib)")
    explain_reasons(rows, contributions, bundle.default.feature_names_)
    clock.lap("reason phrasing")
    return n, clock.laps


def compiled_side_by_side(bundle: ScoringBundle, ledger: Ledger, as_of, cache: Path, threads: int) -> None:
    """(d): the bundle's boosters compiled, then scoring and the timing predict through them beside LightGBM's."""
    fast = copy.deepcopy(bundle)
    started = time.perf_counter()
    status = fast.compile(cache)
    print(f"--- (d) compiled with lleaves in {time.perf_counter() - started:.1f} s (cached in {cache}): {status}")
    started = time.perf_counter()
    scores = fast.score(fresh(ledger), as_of, with_reasons=False)
    seconds = time.perf_counter() - started
    n = len(scores)
    print(f"(d) no reasons, compiled {seconds:8.2f} s  {n / seconds:12,.0f} invoices/s   [{load()}]")
    rows = build_features(ledger.as_of(as_of), as_of)
    matrix = bundle.preprocessor.transform(rows)
    position = np.repeat(np.arange(len(rows)), HORIZON_WEEKS)
    weeks = np.tile(np.arange(1, HORIZON_WEEKS + 1), len(rows))
    x = with_extra(matrix, position, week_features(rows, position, weeks)[WEEK_FEATURES])
    started = time.perf_counter()
    lightgbm = bundle.timing.booster_.predict(x, num_threads=threads)
    lightgbm_s = time.perf_counter() - started
    started = time.perf_counter()
    compiled = fast.timing.compiled_.predict(x, threads)
    compiled_s = time.perf_counter() - started
    print(
        f"    timing predict, {len(x):,} week rows: LightGBM {lightgbm_s:.2f} s, compiled {compiled_s:.2f} s "
        f"({lightgbm_s / compiled_s:.1f}x); largest difference {np.abs(lightgbm - compiled).max():.1e}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=None, help="a saved ScoringBundle (skips training)")
    parser.add_argument("--train-customers", type=int, default=1500)
    parser.add_argument("--train-months", type=int, default=24)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=TrainConfig.num_threads)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--compiled", type=Path, default=None, help="also score through lleaves-compiled boosters")
    args = parser.parse_args(argv)

    if args.bundle:
        bundle = ScoringBundle.load(args.bundle)
        print(
            f"bundle {args.bundle}: trained as of {bundle.meta['trained_as_of']} on "
            f"{bundle.meta['snapshot_rows']:,} snapshot rows, {bundle.meta['timing_trees']} timing trees, "
            f"{bundle.meta['default_trees']} default trees"
        )
    else:
        started = time.perf_counter()
        train = Ledger.from_tables(simulate(args.train_customers, args.train_months, seed=0))
        bundle = fit_bundle(train, train.known_until, TrainConfig(num_threads=args.threads))
        print(
            f"trained on {args.train_customers:,} customers x {args.train_months} months "
            f"({bundle.meta['snapshot_rows']:,} snapshot rows, {bundle.meta['timing_trees']} + "
            f"{bundle.meta['default_trees']} trees) in {time.perf_counter() - started:.0f} s (not counted)"
        )
        del train
    bundle.set_threads(args.threads)

    started = time.perf_counter()
    ledger = Ledger.from_tables(simulate(args.customers, args.months, seed=args.seed))
    as_of = ledger.known_until
    print(
        f"scored ledger: {args.customers:,} customers x {args.months} months, {len(ledger.invoices):,} invoices, "
        f"as of {as_of.date()} (simulated in {time.perf_counter() - started:.1f} s, not counted); "
        f"{args.threads} LightGBM thread(s)"
    )

    ok = True
    for repeat in range(1, args.repeat + 1):
        print(f"--- run {repeat}")
        started = time.perf_counter()
        scores = bundle.score(fresh(ledger), as_of, with_reasons=False)
        plain = time.perf_counter() - started
        n = len(scores)
        print(
            f"(a) no reasons      {plain:8.2f} s  {n / plain:12,.0f} invoices/s  ({n:,} open invoices; target "
            f"{TARGET_INVOICES_PER_S:,})   [{load()}]"
        )
        ok = ok and n / plain >= TARGET_INVOICES_PER_S
        del scores
        started = time.perf_counter()
        scores = bundle.score(fresh(ledger), as_of, with_reasons=True)
        full = time.perf_counter() - started
        print(f"(b) with reasons    {full:8.2f} s  {n / full:12,.0f} invoices/s   [{load()}]")
        del scores
        rows, laps = split(bundle, fresh(ledger), as_of)
        print(f"(c) split ({rows:,} invoices)   [{load()}]")
        for name, seconds in laps.items():
            print(f"    {name:36s} {seconds:8.2f} s  {rows / seconds:12,.0f} invoices/s")
        print(f"    {'sum':36s} {sum(laps.values()):8.2f} s")
    if args.compiled is not None:
        compiled_side_by_side(bundle, ledger, as_of, args.compiled, args.threads)
    print(f"peak RSS {peak_rss_mb():,.0f} MB")
    print("OK" if ok else "UNDER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
