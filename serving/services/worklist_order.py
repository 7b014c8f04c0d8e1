"""The order a collector works their accounts in: by what is at stake, worked accounts cooling down, capacity a day.

An account with an activity logged within the last `cooldown_days` (the worklist date included) moves below the
accounts not worked recently, unless something changed since that activity: a promise broken (or paid short) after
it, or a dispute opened after it. Each collector's first `capacity` accounts in that order are today's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from serving.services.stake import StakeWeights, weights_from
from serving.settings import Settings


@dataclass(frozen=True)
class WorklistPolicy:
    """How a worklist is ranked: stake weights, daily capacity per collector, cooldown after an activity (days)."""

    weights: StakeWeights = field(default_factory=StakeWeights)
    default_capacity: int = 25
    capacities: Mapping[str, int] = field(default_factory=dict)
    cooldown_days: int = 3

    def capacity(self, collector_id: str) -> int:
        return int(self.capacities.get(collector_id, self.default_capacity))

    @classmethod
    def from_settings(cls, settings: Settings) -> WorklistPolicy:
        return cls(
            weights=weights_from(settings),
            default_capacity=settings.collector_capacity,
            capacities=dict(settings.collector_capacities),
            cooldown_days=settings.worklist_cooldown_days,
        )


def changed_since(account, activity_date: pd.Timestamp) -> str | None:
    """What changed on an account since its last activity (a reason to work it again), or None."""
    for promise in account.promises:
        if promise.broken and promise.promised_date >= activity_date:
            return f"promise {promise.promise_id} broken (not paid, or paid short) since the last activity"
    for dispute in account.open_disputes:
        if dispute.opened_date > activity_date:
            return f"dispute {dispute.dispute_id} opened since the last activity"
    return None


def cooling_down(account, cutoff: pd.Timestamp, cooldown_days: int) -> bool:
    """Worked within the last `cooldown_days` days (the worklist date included) and nothing changed since."""
    last = account.last_activity_date
    if last is None or cooldown_days <= 0 or last > cutoff or (cutoff - last).days >= cooldown_days:
        return False
    return changed_since(account, last) is None


def order_accounts(accounts: list, cutoff: pd.Timestamp, policy: WorklistPolicy) -> list:
    """Set global_rank (by at stake over all accounts given), cooling_down, rank within the collector (cooled-down
    accounts after the others) and today (rank <= the collector's capacity); return them by collector, then rank."""
    accounts = sorted(accounts, key=lambda a: (-a.at_stake, a.customer_id))
    for global_rank, account in enumerate(accounts, start=1):
        account.global_rank = global_rank
        account.cooling_down = cooling_down(account, cutoff, policy.cooldown_days)
    ordered = sorted(accounts, key=lambda a: (a.collector_id, a.cooling_down, a.global_rank))
    rank, previous = 0, None
    for account in ordered:
        rank = rank + 1 if account.collector_id == previous else 1
        previous = account.collector_id
        account.rank = rank
        account.today = rank <= policy.capacity(account.collector_id)
    return ordered
