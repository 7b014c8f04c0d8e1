"""The model in service: loaded once in the lifespan, swapped without a restart when a new champion appears.

A request takes a reference to the current bundle and keeps it for its whole life, so a swap never fails a request
in flight. If the registry cannot be reached the last good model stays in service and `error` says why (/readyz).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import threading
from pathlib import Path

from serving.settings import Settings
from training.bundle import ScoringBundle

log = logging.getLogger("payrisk.model")
REQUEST_THREADS = 1
"""LightGBM threads when scoring a request: a few hundred rows are scored faster on one thread than by waking an
OpenMP team (on a busy machine a 2-thread predict can wait ~10 ms for its second thread); requests run side by side
in the server's thread pool instead. Whole-book runs keep `settings.num_threads`."""


class ModelHolder:
    """Holds the current ScoringBundle. `reference`: a bundle path, a registry version, or None for the champion."""

    def __init__(self, settings: Settings, reference: str | None = None, load: bool = True):
        self.settings = settings
        self.reference = reference if reference is not None else settings.model
        self.bundle: ScoringBundle | None = None
        self.error: str | None = None
        self.loaded_at: dt.datetime | None = None
        self.checked_at: dt.datetime | None = None
        self.predictor: dict[str, str] = {}
        self._lock = threading.Lock()
        if load:
            self.load()

    def _resolve(self) -> ScoringBundle:
        if self.reference and Path(self.reference).exists():
            bundle = ScoringBundle.load(self.reference)
            bundle.meta["model_version"] = f"file:{Path(self.reference).name}"
            return bundle
        from training import registry

        registry.configure(self.settings.resolved_tracking_uri())
        return registry.load_bundle(self.reference, self.settings.registered_model_name, self.settings.models_dir)

    def load(self) -> bool:
        """(Re)load from the reference; on failure keep the last good bundle and record why. True if swapped."""
        with self._lock:
            self.checked_at = dt.datetime.now(dt.UTC)
            try:
                bundle = self._resolve()
            except Exception as exc:  # the registry being down must not take the service down
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("model load failed, keeping %s: %s", self.version, self.error)
                return False
            bundle.set_threads(self.settings.num_threads)
            if self.settings.compile_models:
                cache = self.settings.compiled_dir or Path(self.settings.models_dir) / "compiled"
                self.predictor = bundle.compile(cache)
                log.info("model predictor: %s", self.predictor)
            else:
                self.predictor = {"all": "LightGBM (PAYRISK_COMPILE_MODELS=false)"}
            if self.settings.closing_days:  # closing days declared after training count too
                bundle.set_closing_days([*bundle.closing_days, *self.settings.closing_days])
            swapped = self.bundle is None or bundle.version != self.bundle.version
            self.bundle, self.error, self.loaded_at = bundle, None, dt.datetime.now(dt.UTC)
            return swapped

    def refresh(self) -> bool:
        """Pick up a new champion (only registry aliases move; a fixed path or version does not)."""
        if self.reference and not str(self.reference).startswith("@"):
            return False
        if self.bundle is not None:
            try:
                from training import registry

                registry.configure(self.settings.resolved_tracking_uri())
                current = registry.champion_version(self.settings.registered_model_name)
            except Exception as exc:
                self.error = f"registry unreachable: {type(exc).__name__}: {exc}"
                return False
            if current is not None and current == self.bundle.version:
                self.error, self.checked_at = None, dt.datetime.now(dt.UTC)
                return False
        return self.load()

    @property
    def version(self) -> str | None:
        return None if self.bundle is None else self.bundle.version

    def info(self) -> dict:
        meta = {} if self.bundle is None else self.bundle.meta
        return {
            "version": self.version,
            "trained_as_of": meta.get("trained_as_of"),
            "ledger_fingerprint": meta.get("ledger_fingerprint"),
            "features": len(meta.get("features", [])),
            # the model's own holdout backtest (training.pipeline keeps it as meta["backtest"]); older bundles: none
            "holdout_metrics": meta.get("backtest") or meta.get("holdout_metrics", {}),
            "loaded_at": None if self.loaded_at is None else self.loaded_at.isoformat(),
            "checked_at": None if self.checked_at is None else self.checked_at.isoformat(),
            "last_error": self.error,
            "predictor": dict(self.predictor),
        }

    def request_bundle(self) -> ScoringBundle | None:
        """The bundle in service, for request-sized scoring: the same models (same numbers) on REQUEST_THREADS
        LightGBM threads. Made once per bundle; a request keeps the one it got for its whole life."""
        bundle = self.bundle
        if bundle is None:
            return None
        cached = getattr(self, "_request_copy", None)
        if cached is not None and cached[0] is bundle:
            return cached[1]
        light = copy.copy(bundle)
        light.timing, light.default = copy.copy(bundle.timing), copy.copy(bundle.default)
        light.set_threads(REQUEST_THREADS)
        self._request_copy = (bundle, light)
        return light
