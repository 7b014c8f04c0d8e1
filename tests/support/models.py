"""A model holder for service tests: holds a trained bundle with the surface of
serving.services.scoring_service.ModelHolder (bundle, info(), refresh()), without a registry."""

from __future__ import annotations


class BundleHolder:
    """Holds `bundle`; counts refresh() calls."""

    def __init__(self, bundle) -> None:
        self.bundle = bundle
        self.refreshed = 0

    def info(self) -> dict:
        return {"version": self.bundle.version, "meta": dict(self.bundle.meta)}

    def refresh(self) -> None:
        self.refreshed += 1
