"""LightGBM boosters compiled to machine code with lleaves: the same trees, predicted several times faster.

lleaves (an LLVM compiler for LightGBM's model text) turns each tree into straight-line code, so predicting needs
no tree walk. `benchmarks/bench_score.py --compiled DIR` prints both side by side: the timing model's 358k week rows
of a 27,556-invoice book took 0.90 s in LightGBM and 0.62 s compiled (2 threads, load 2), agreeing to 8e-16; the
whole score (features included) did not get faster at that size, as prediction is a quarter of it. Only the
predicted probabilities go through it: feature contributions (the reasons) stay LightGBM's own `pred_contrib`.

A compiled forest is machine code for this CPU, so it is cached by a key of the model text, the compiler versions
and the host CPU, never shipped inside a bundle: `compile_booster(booster, cache_dir)` loads `<key>.so` when it is
there and compiles it otherwise (written under a temporary name and renamed, so two processes compiling the same
model never read half a file). When lleaves is missing or a compilation fails, `CompileUnavailable` says why and
the model keeps predicting with LightGBM.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib import metadata
from pathlib import Path

import lightgbm as lgb
import numpy as np

COMPILER = "lleaves"


class CompileUnavailable(RuntimeError):
    """The booster cannot be compiled here (compiler not installed, or it failed); LightGBM keeps predicting."""


def _versions() -> str:
    try:
        return f"lleaves {metadata.version('lleaves')}, llvmlite {metadata.version('llvmlite')}"
    except metadata.PackageNotFoundError as exc:
        raise CompileUnavailable(f"{exc.name} is not installed: predictions use LightGBM") from exc


def _host_cpu() -> str:
    import llvmlite.binding as llvm

    return f"{llvm.get_host_cpu_name()} {llvm.get_host_cpu_features().flatten()}"


class CompiledForest:
    """A booster's trees as machine code; `predict(x)` gives what `booster.predict(x)` gives (probabilities)."""

    def __init__(self, model: object, path: Path, key: str):
        self._model = model
        self.path = path
        self.key = key

    def predict(self, x: np.ndarray, num_threads: int = 1) -> np.ndarray:
        matrix = np.ascontiguousarray(x, dtype=np.float64)
        if len(matrix) == 0:
            return np.zeros(0)
        return np.asarray(self._model.predict(matrix, n_jobs=max(1, int(num_threads))))  # type: ignore[attr-defined]


def compile_booster(booster: lgb.Booster, cache_dir: Path | str) -> CompiledForest:
    """The compiled form of `booster` (the trees its `predict` uses), from `cache_dir` or compiled into it.

    Raises CompileUnavailable when lleaves is not installed or cannot compile this model."""
    versions = _versions()
    try:
        import lleaves
    except ImportError as exc:  # installed but broken (e.g. an llvmlite it does not support)
        raise CompileUnavailable(f"lleaves cannot be imported ({exc}): predictions use LightGBM") from exc
    text = booster.model_to_string()
    key = hashlib.sha256("\n".join([versions, _host_cpu(), text]).encode()).hexdigest()[:24]
    cache = Path(cache_dir)
    library = cache / f"{key}.so"
    model_file = cache / f"{key}.txt"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        if not model_file.exists():
            _write_atomically(model_file, text.encode())
        model = lleaves.Model(model_file=str(model_file))
        if library.exists():
            model.compile(cache=str(library))
        else:
            with tempfile.TemporaryDirectory(dir=cache) as scratch:
                partial = Path(scratch) / library.name
                model.compile(cache=str(partial))
                os.replace(partial, library)
    except Exception as exc:  # any compiler failure leaves LightGBM in charge, with the reason
        raise CompileUnavailable(f"lleaves could not compile the model ({type(exc).__name__}: {exc})") from exc
    return CompiledForest(model, library, key)


def _write_atomically(path: Path, data: bytes) -> None:
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".partial")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(partial, path)
