"""Helpers for talking to the app in tests."""

from __future__ import annotations


def headers(keys: dict[str, str], who: str) -> dict[str, str]:
    """The X-API-Key header of the key named `who` in the `keys` fixture (admin, finance, collector, ...)."""
    return {"X-API-Key": keys[who]}
