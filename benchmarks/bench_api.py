"""Benchmark of the HTTP API under load, side by side with MLflow's model server on the same model and invoices.

    .venv/bin/python benchmarks/bench_api.py                          # 1,500 customers x 24 months, 30 s a scenario
    .venv/bin/python benchmarks/bench_api.py --seconds 10 --concurrency 2 --customers 300

Set-up (temporary directories, removed at the end): a simulated ledger; a bundle trained with a small TrainConfig and
registered as champion in an MLflow SQLite store; the ledger loaded into a SQLite store; one scoring run stored (the
worklists read it). Then `payrisk serve` (uvicorn, one worker) and `mlflow models serve -m
models:/payment-risk@champion --env-manager local` (one worker) run as subprocesses on free loopback ports.

Scenarios, each for --seconds with --concurrency client threads (one keep-alive httpx connection each):
  payrisk  POST /v1/score with 1 and with 100 invoices given in the request (open invoices of the ledger, sent as
           contract rows: validated, merged with their customers' stored history, featured and scored); and the same
           100 rows under new invoice ids (new invoices: their settlement status is computed, not reused)
  payrisk  GET /v1/worklists/{collector} for the collector with the most open invoices
  mlflow   POST /invocations with the SAME invoices' feature rows (features.build.build_features on the same ledger)
           as `dataframe_split`: MLflow only scores, the features are given
Requests rotate over --sets different invoice sets (the same sets for both servers). Latencies are client-side, in
ms; errors are non-2xx answers and failed requests. Both servers are stopped at the end, also on error.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
MODEL_NAME = "payment-risk"
MAX_REQUESTS = 1_000_000
"""Upper bound on the requests of one scenario (the time bound comes first in practice)."""
TARGET_P99_MS = 50.0
TARGET_RATIO = 3.0


# ----------------------------------------------------------------------------- set-up
@dataclass
class Setup:
    directory: Path
    env: dict[str, str]
    tracking_uri: str
    as_of: pd.Timestamp
    admin_key: str
    collector: str
    collector_open: int
    collector_key: str
    invoice_rows: pd.DataFrame
    feature_rows: pd.DataFrame
    open_ids: np.ndarray
    model_version: str
    trees: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)


def timed(timings: dict[str, float], label: str, func: Callable):
    started = time.perf_counter()
    result = func()
    timings[label] = time.perf_counter() - started
    print(f"  {label:<52} {timings[label]:7.1f} s", flush=True)
    return result


def set_up(directory: Path, customers: int, months: int) -> Setup:
    from features.build import build_features
    from features.ledger.ledger import Ledger
    from features.simulator.simulate import simulate, write_ledger
    from payrisk.commands.store import read_ledger_files
    from serving.services.scoring_runs import run_scoring
    from serving.services.scoring_service import ModelHolder
    from serving.settings import Settings
    from serving.store.audit import Actor
    from serving.store.engine import make_engine, make_sessionmaker
    from serving.store.keys import create_key
    from serving.store.ledger.io import load_ledger
    from serving.store.ledger.sync import sync_tables
    from serving.store.migrate import upgrade
    from training import registry
    from training.pipeline import train_and_register
    from training.train import TrainConfig

    timings: dict[str, float] = {}
    data_dir, models_dir, ledger_dir = directory / "data", directory / "models", directory / "ledger"
    data_dir.mkdir()
    tracking_uri = f"sqlite:///{data_dir / 'mlflow.db'}"
    database_url = f"sqlite:///{data_dir / 'payrisk.db'}"
    env = {
        "PAYRISK_DATA_DIR": str(data_dir),
        "PAYRISK_MODELS_DIR": str(models_dir),
        "PAYRISK_DATABASE_URL": database_url,
        "PAYRISK_MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PAYRISK_MODEL_REFRESH_SECONDS": "600",
        "PAYRISK_WRITE_RATE_PER_MINUTE": "0",  # a throughput benchmark: the per-key write throttle would answer 429
    }
    os.environ.update(env)
    actor = Actor(None, "bench", "admin")

    tables = timed(
        timings, f"simulate {customers:,} customers x {months} months", lambda: simulate(customers, months, seed=7)
    )
    write_ledger(tables, ledger_dir)
    ledger = timed(timings, "load and validate the ledger", lambda: Ledger.load(ledger_dir))
    as_of = ledger.known_until
    config = TrainConfig(window_days=182, every_days=14, rounds=60, early_stopping=10, num_threads=2)
    outcome = timed(
        timings,
        "train and register the champion (small TrainConfig)",
        lambda: train_and_register(
            ledger, as_of, config, MODEL_NAME, tracking_uri, holdout=False, progress=lambda _: None
        ),
    )
    if not outcome.is_champion:  # without a holdout the first-champion gate cannot pass: serve it for latency only
        registry.set_champion(MODEL_NAME, outcome.version, "benchmark: served to measure latency, not on merit")
    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    batches, file_names = read_ledger_files(ledger_dir)
    with sessions() as session:
        timed(
            timings,
            "load the ledger into the store (one transaction)",
            lambda: sync_tables(session, batches, file_names, actor),
        )
    settings = Settings(
        data_dir=data_dir, models_dir=models_dir, database_url=database_url, mlflow_tracking_uri=tracking_uri
    )
    holder = ModelHolder(settings)
    with sessions() as session:
        stored = load_ledger(session)
        timed(
            timings,
            "store a scoring run of the open book",
            lambda: run_scoring(session, holder.bundle, stored, as_of, actor),
        )
    book = ledger.open_amounts(as_of).merge(ledger.customers[["customer_id", "collector_id"]], on="customer_id")
    per_collector = book["collector_id"].value_counts()
    collector = str(per_collector.index[0])
    with sessions() as session:
        _, admin_key = create_key(session, "admin", "bench admin", actor)
        _, collector_key = create_key(session, "collector", "bench collector", actor, collector_id=collector)
        session.commit()
    engine.dispose()
    features = timed(
        timings, "build the open book's feature rows (for MLflow)", lambda: build_features(ledger.as_of(as_of), as_of)
    )
    invoices = tables["invoices"].set_index("invoice_id", drop=False)
    trees = {"timing": holder.bundle.timing.booster_.num_trees(), "default": holder.bundle.default.booster_.num_trees()}
    return Setup(
        directory,
        env,
        tracking_uri,
        as_of,
        admin_key,
        collector,
        int(per_collector.iloc[0]),
        collector_key,
        invoices,
        features.set_index("invoice_id", drop=False),
        features["invoice_id"].to_numpy(),
        str(outcome.version),
        trees,
        timings,
    )


# ----------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def server(name: str, command: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen]:
    """A server subprocess in its own process group, stopped (TERM, then KILL) when the block ends."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, env=os.environ | env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=wait)
        print(f"  stopped {name} (exit {process.poll()})", flush=True)


def wait_until(check: Callable[[], bool], seconds: float, what: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    state = f"exited with {process.returncode}" if process.poll() is not None else f"not ready within {seconds:.0f} s"
    raise RuntimeError(f"{what} {state}; log tail:\n{tail}")


# ----------------------------------------------------------------------------- load
@dataclass
class Result:
    scenario: str
    server: str
    latencies_ms: list[float]
    errors: int
    seconds: float
    first_error: str | None = None

    def quantile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


def run_load(
    scenario: str,
    server_name: str,
    base: str,
    requests: list[Callable],
    seconds: float,
    concurrency: int,
    warmup: int = 3,
) -> Result:
    """Send requests (callables taking an httpx.Client) round-robin from `concurrency` threads for `seconds`."""
    import httpx

    with httpx.Client(base_url=base, timeout=60.0) as client:
        for make in requests[:warmup]:  # first requests build per-revision caches; not measured
            make(client).raise_for_status()
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    first_error: list[str] = []
    deadline = time.monotonic() + seconds

    def worker() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=base, timeout=60.0) as client:
            while time.monotonic() < deadline:
                n = next(counter)
                if n >= MAX_REQUESTS:
                    break
                started = time.perf_counter()
                try:
                    response = requests[n % len(requests)](client)
                    ok = response.status_code < 300
                    detail = None if ok else f"{response.status_code}: {response.text[:300]}"
                except Exception as exc:
                    ok, detail = False, f"{type(exc).__name__}: {exc}"
                elapsed = (time.perf_counter() - started) * 1000
                if ok:
                    mine.append(elapsed)
                else:
                    with lock:
                        errors[0] += 1
                        if not first_error:
                            first_error.append(str(detail))
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, name=f"client-{i}") for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return Result(
        scenario, server_name, latencies, errors[0], time.monotonic() - started, first_error[0] if first_error else None
    )


def contract_rows(setup: Setup, ids: np.ndarray, prefix: str = "") -> list[dict]:
    frame = setup.invoice_rows.loc[
        ids, ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"]
    ].copy()
    for column in ("invoice_date", "due_date"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    frame["invoice_id"] = prefix + frame["invoice_id"].astype(str)
    return frame.astype(object).to_dict("records")


def dataframe_split(setup: Setup, ids: np.ndarray) -> bytes:
    rows = setup.feature_rows.loc[ids].reset_index(drop=True).copy()
    for column in ("as_of", "due_date"):
        rows[column] = rows[column].dt.strftime("%Y-%m-%d")
    return json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}).encode()


def scenarios(setup: Setup, sets: int, payrisk: str, mlflow_base: str) -> list[tuple[str, str, str, list]]:
    rng = np.random.default_rng(11)
    as_of = str(setup.as_of.date())
    admin = {"X-API-Key": setup.admin_key, "Content-Type": "application/json"}
    mlflow_headers = {"Content-Type": "application/json"}
    out = []
    for size in (1, 100):
        picks = [rng.choice(setup.open_ids, size, replace=False) for _ in range(sets)]
        bodies = [json.dumps({"as_of": as_of, "invoices": contract_rows(setup, ids)}).encode() for ids in picks]
        frames = [dataframe_split(setup, ids) for ids in picks]
        label = f"score {size} invoice{'s' if size > 1 else ''}"
        out.append(
            (
                label,
                "payrisk",
                payrisk,
                [(lambda c, b=b: c.post("/v1/score", content=b, headers=admin)) for b in bodies],
            )
        )
        out.append(
            (
                label,
                "mlflow",
                mlflow_base,
                [(lambda c, b=b: c.post("/invocations", content=b, headers=mlflow_headers)) for b in frames],
            )
        )
        if size == 100:  # the same rows as new invoices (ids unknown to the store): nothing cached applies to them
            fresh = [
                json.dumps({"as_of": as_of, "invoices": contract_rows(setup, ids, "NEW-")}).encode() for ids in picks
            ]
            out.append(
                (
                    f"{label}, new ids",
                    "payrisk",
                    payrisk,
                    [(lambda c, b=b: c.post("/v1/score", content=b, headers=admin)) for b in fresh],
                )
            )
    worklist = {"X-API-Key": setup.collector_key}
    out.append(
        (
            f"worklist ({setup.collector_open:,} open invoices)",
            "payrisk",
            payrisk,
            [lambda c: c.get(f"/v1/worklists/{setup.collector}", headers=worklist)],
        )
    )
    return out


# ----------------------------------------------------------------------------- report
def report(results: list[Result], concurrency: int) -> None:
    print(
        f"\n{'scenario':<34} {'server':<8} {'conc':>4} {'requests':>9} {'errors':>6} {'p50 ms':>8} "
        f"{'p90 ms':>8} {'p99 ms':>8} {'req/s':>8}"
    )
    for r in results:
        print(
            f"{r.scenario:<34} {r.server:<8} {concurrency:>4} {len(r.latencies_ms):>9,} {r.errors:>6} "
            f"{r.quantile(50):>8.1f} {r.quantile(90):>8.1f} {r.quantile(99):>8.1f} {r.throughput:>8.1f}"
        )
    by = {(r.scenario, r.server): r for r in results}
    print()
    for scenario in ("score 1 invoice", "score 100 invoices"):
        ours, theirs = by.get((scenario, "payrisk")), by.get((scenario, "mlflow"))
        if ours and theirs and theirs.throughput:
            ratio = ours.throughput / theirs.throughput
            print(f"{scenario}: throughput payrisk / mlflow = {ratio:.2f}x (target >= {TARGET_RATIO:.0f}x)")
    hundred = by.get(("score 100 invoices", "payrisk"))
    if hundred:
        verdict = "met" if hundred.quantile(99) <= TARGET_P99_MS else "MISSED"
        print(
            f"p99 of payrisk score 100 invoices: {hundred.quantile(99):.1f} ms (target <= {TARGET_P99_MS:.0f} ms: "
            f"{verdict})"
        )
    errors = sum(r.errors for r in results)
    print(f"errors: {errors} (target 0)")
    for r in results:
        if r.first_error:
            print(f"  first error of {r.scenario} / {r.server}: {r.first_error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_500)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each scenario")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (one connection each)")
    parser.add_argument("--sets", type=int, default=16, help="different invoice sets each scenario rotates over")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, stores)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.sets < 1:
        parser.error("--seconds, --concurrency and --sets must be positive")
    directory = Path(tempfile.mkdtemp(prefix="payrisk-bench-api-"))
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.chdir(directory)  # MLflow writes run artifacts under ./mlruns
    try:
        print(f"set-up in {directory} ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})", flush=True)
        setup = set_up(directory, args.customers, args.months)
        print(
            f"  model version {setup.model_version}: {setup.trees['timing']} timing trees, "
            f"{setup.trees['default']} default trees; as of {setup.as_of.date()}, {len(setup.open_ids):,} open "
            f"invoices",
            flush=True,
        )
        results = run_servers(setup, args)
        print(f"\nload average after: {os.getloadavg()[0]:.1f} (the host's other work shares these CPUs)")
        report(results, args.concurrency)
        return 0 if all(r.errors == 0 for r in results) else 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def run_servers(setup: Setup, args: argparse.Namespace) -> list[Result]:
    import httpx

    payrisk_port, mlflow_port = free_port(), free_port()
    payrisk, mlflow_base = f"http://{LOOPBACK}:{payrisk_port}", f"http://{LOOPBACK}:{mlflow_port}"
    payrisk_log, mlflow_log = setup.directory / "payrisk.log", setup.directory / "mlflow.log"
    bin_dir = Path(sys.executable).parent  # `mlflow models serve` runs `uvicorn` from PATH
    env = setup.env | {"PYTHONPATH": str(REPO), "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    mlflow_bin = str(bin_dir / "mlflow")
    payrisk_command = [sys.executable, "-m", "payrisk.cli", "serve", "--host", LOOPBACK, "--port", str(payrisk_port)]
    mlflow_command = [
        mlflow_bin,
        "models",
        "serve",
        "-m",
        f"models:/{MODEL_NAME}@champion",
        "--env-manager",
        "local",
        "-h",
        LOOPBACK,
        "-p",
        str(mlflow_port),
    ]
    results: list[Result] = []
    with (
        server("payrisk", payrisk_command, env, setup.directory, payrisk_log) as payrisk_process,
        server("mlflow", mlflow_command, env, setup.directory, mlflow_log) as mlflow_process,
    ):
        started = time.perf_counter()
        wait_until(
            lambda: httpx.get(f"{payrisk}/readyz", timeout=5).json()["model"]["loaded"],
            180,
            "payrisk serve",
            payrisk_process,
            payrisk_log,
        )
        wait_until(
            lambda: httpx.get(f"{mlflow_base}/ping", timeout=5).status_code == 200,
            300,
            "mlflow models serve",
            mlflow_process,
            mlflow_log,
        )
        print(
            f"  both servers ready in {time.perf_counter() - started:.1f} s: payrisk {payrisk}, mlflow {mlflow_base}",
            flush=True,
        )
        for scenario, name, base, requests in scenarios(setup, args.sets, payrisk, mlflow_base):
            print(f"running {scenario} / {name} for {args.seconds:.0f} s ...", flush=True)
            results.append(run_load(scenario, name, base, requests, args.seconds, args.concurrency))
    return results


if __name__ == "__main__":
    raise SystemExit(main())
