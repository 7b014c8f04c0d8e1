"""What the pages compute from one ledger revision and one scoring run, kept for the next page: a worklist, a
forecast, the receivables figures. The key names everything the result depends on (the ledger view's revision, the
scoring run, the last activity id, the parameters), so a stale entry is never served: a write changes the key and
the next page computes anew. Least recently used entries go first (at most MAX_ENTRIES)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from fastapi import Request

T = TypeVar("T")
MAX_ENTRIES = 64


class PageCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()  # outside the lock: two pages may compute the same entry once each, never block each other
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


def cached(request: Request, key: Hashable, compute: Callable[[], T]) -> T:
    cache = getattr(request.app.state, "web_cache", None)
    if cache is None:
        cache = request.app.state.web_cache = PageCache()
    return cache.get(key, compute)
