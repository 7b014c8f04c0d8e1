"""The request guard against issue 10's measurements: a large JSON body posted without a key (server peak memory
before and after) and a burst of bad-key requests (how many are throttled).

    .venv/bin/python benchmarks/bench_guard.py                 # the service of this checkout
    .venv/bin/python benchmarks/bench_guard.py --repo /path/to/other/checkout --burst 0

Starts `uvicorn serving.app:app` (one worker) on an empty SQLite store in a temporary directory, with this
checkout (or --repo) first on PYTHONPATH. Memory is the server's VmHWM (peak RSS) from /proc (Linux).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PORT = 8765


def peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--rows", type=int, default=460_000, help="customers rows in the body (~55 MB)")
    parser.add_argument("--burst", type=int, default=500, help="bad-key requests")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="bench-guard-")
    env = os.environ | {"PYTHONPATH": str(args.repo), "PAYRISK_DATA_DIR": data, "PAYRISK_MODEL_REFRESH_SECONDS": "0"}
    command = [sys.executable, "-m", "uvicorn", "serving.app:app", "--port", str(PORT), "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=data, env=env)
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        rows = [
            {"customer_id": f"C{i:07d}", "name": "x" * 40, "collector_id": "K1", "segment": "smb"}
            for i in range(args.rows)
        ]
        body = json.dumps({"customers": rows}).encode()
        before = peak_mb(server.pid)
        start = time.perf_counter()
        response = httpx.post(
            f"{base}/v1/ledger", content=body, headers={"content-type": "application/json"}, timeout=120
        )
        took = time.perf_counter() - start
        print(
            f"{len(body) / 1e6:.1f} MB body without a key: {response.status_code} in {took:.2f} s; "
            f"server peak RSS {before:.0f} MB -> {peak_mb(server.pid):.0f} MB"
        )
        if args.burst:
            start = time.perf_counter()
            with httpx.Client(base_url=base) as client:
                codes = [
                    client.get("/v1/kpis", headers={"X-API-Key": f"prk_bad{i}"}).status_code for i in range(args.burst)
                ]
            print(
                f"{args.burst} bad-key requests in {time.perf_counter() - start:.1f} s: {codes.count(401)} x 401, "
                f"{codes.count(429)} x 429 (throttled)"
            )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
