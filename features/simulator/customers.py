"""Customer population and fx rates for the ledger simulator.

Each customer gets a hidden behaviour profile (archetype, payment-run habit, delay trend, dispute and promise
habits, a possible cash squeeze or failure) drawn as numpy arrays, one element per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.simulator.calendar import HABITS, to_dates

ARCHETYPES = ("prompt", "late", "very_late", "deteriorating", "improving")
ARCHETYPE_SHARE = np.array([0.40, 0.26, 0.11, 0.15, 0.08])
SEGMENTS = ("enterprise", "mid-market", "smb")
SEGMENT_SHARE = np.array([0.08, 0.30, 0.62])
TERMS = np.array([15, 30, 45, 60])
TERMS_SHARE = np.array([[0.0, 0.3, 0.3, 0.4], [0.05, 0.55, 0.25, 0.15], [0.2, 0.6, 0.1, 0.1]])  # by segment
MEDIAN_INVOICE_USD = np.array([40_000.0, 6_000.0, 900.0])  # by segment
INVOICES_PER_MONTH = np.array([14.3, 5.9, 3.15])  # median by segment
HABIT_SHARE = np.array([0.25, 0.06, 0.10, 0.05, 0.10, 0.04, 0.17, 0.18, 0.05])
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class World:
    """The mix a simulated book is drawn from. The default is the demo world; other worlds (benchmarks/
    bench_ledgers.py) move one share at a time, so a model is judged on books it was not built on.

    Shares are relative weights (normalised here); each tuple follows the order of its name tuple.
    """

    archetype_share: tuple[float, ...] = tuple(ARCHETYPE_SHARE)
    """Weights of ARCHETYPES: prompt, late, very_late, deteriorating, improving."""
    habit_share: tuple[float, ...] = tuple(HABIT_SHARE)
    """Weights of the payment-run habits (features.simulator.calendar.HABITS)."""
    currency_share: tuple[float, ...] = (0.62, 0.16, 0.10, 0.08, 0.04)
    """Weights of the base currency and the four others (currency_list); the countries (and so the holiday
    calendars) follow the currency."""

    def __post_init__(self) -> None:
        for name, size in (("archetype_share", len(ARCHETYPES)), ("habit_share", len(HABITS)), ("currency_share", 5)):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != (size,) or (value < 0).any() or value.sum() <= 0:
                raise ValueError(f"World.{name} needs {size} non-negative weights with a positive sum, not {value}")

    @staticmethod
    def _cdf(weights: tuple[float, ...]) -> np.ndarray:
        w = np.asarray(weights, dtype=float)
        return np.cumsum(w / w.sum())


# currency -> (USD per unit at start, weekly log volatility, countries, country shares, minor-unit scale)
CURRENCIES: dict[str, tuple[float, float, tuple[str, ...], tuple[float, ...], float]] = {
    "USD": (1.0, 0.0, ("US", "PR"), (0.96, 0.04), 100.0),
    "EUR": (1.09, 0.009, ("DE", "FR", "NL", "IT", "ES", "IE"), (0.3, 0.25, 0.15, 0.1, 0.1, 0.1), 100.0),
    "GBP": (1.27, 0.010, ("GB",), (1.0,), 100.0),
    "CAD": (0.74, 0.008, ("CA",), (1.0,), 100.0),
    "JPY": (0.0068, 0.012, ("JP",), (1.0,), 1.0),
    "CHF": (1.13, 0.009, ("CH",), (1.0,), 100.0),
    "AUD": (0.66, 0.011, ("AU",), (1.0,), 100.0),
}
CURRENCY_SHARE = np.array([0.62, 0.16, 0.10, 0.08, 0.04])
SUFFIX = {
    "US": "Inc",
    "PR": "LLC",
    "DE": "GmbH",
    "FR": "SAS",
    "NL": "BV",
    "IT": "SpA",
    "ES": "SL",
    "IE": "Ltd",
    "GB": "Ltd",
    "CA": "Inc",
    "JP": "KK",
    "CH": "AG",
    "AU": "Pty Ltd",
}
NAME_FIRST = np.array(
    [
        "Acme",
        "Apex",
        "Atlas",
        "Aurora",
        "Beacon",
        "Blue",
        "Bright",
        "Cedar",
        "Cobalt",
        "Crest",
        "Delta",
        "Eagle",
        "Evergreen",
        "Falcon",
        "Golden",
        "Granite",
        "Harbor",
        "Horizon",
        "Iron",
        "Summit",
        "Lakeside",
        "Maple",
        "Meridian",
        "Nova",
        "Oak",
        "Orion",
        "Pacific",
        "Pioneer",
        "Quantum",
        "Redwood",
        "Silver",
        "Sterling",
        "Titan",
        "Vertex",
        "Westfield",
        "Zenith",
    ]
)
NAME_SECOND = np.array(
    [
        "Analytics",
        "Bakery",
        "Builders",
        "Chemicals",
        "Consulting",
        "Dynamics",
        "Electric",
        "Energy",
        "Foods",
        "Freight",
        "Health",
        "Industries",
        "Labs",
        "Logistics",
        "Machinery",
        "Media",
        "Metals",
        "Motors",
        "Networks",
        "Optics",
        "Packaging",
        "Pharma",
        "Plastics",
        "Retail",
        "Robotics",
        "Software",
        "Supply",
        "Systems",
        "Textiles",
        "Tools",
        "Trading",
        "Ventures",
        "Wholesale",
    ]
)


@dataclass(frozen=True)
class Customers:
    """Per-customer arrays (one element per customer) plus the currency list they index into."""

    currencies: tuple[str, ...]
    archetype: np.ndarray  # index into ARCHETYPES
    segment: np.ndarray  # index into SEGMENTS
    currency: np.ndarray  # index into currencies
    country: np.ndarray  # ISO alpha-2
    terms_days: np.ndarray
    habit: np.ndarray  # index into HABITS
    snap_back: np.ndarray  # bool: pays in the last run before the intended date rather than the next
    active_from: np.ndarray  # day number of the first possible invoice
    active_to: np.ndarray  # day number of the last possible invoice
    invoices_per_month: np.ndarray
    log_median_amount: np.ndarray  # log of the median invoice amount, invoice currency
    log_sigma_amount: np.ndarray
    minor_scale: np.ndarray  # 100 (cents) or 1 (JPY)
    delay_base: np.ndarray  # intended days late at the start, days
    delay_end: np.ndarray  # improving customers: intended days late at the end of the window, days
    delay_sd: np.ndarray  # invoice-to-invoice noise, days
    drift_sd: np.ndarray  # monthly innovation of the customer's AR(1) delay drift, days
    onset_day: np.ndarray  # deteriorating: day number the deterioration starts (far future otherwise)
    slope: np.ndarray  # deteriorating: extra days late per month after onset
    failure_day: np.ndarray  # day number after which the customer pays nothing more (far future if never)
    squeeze_from: np.ndarray  # cash squeeze episode [from, to) as day numbers (empty if none)
    squeeze_to: np.ndarray
    dispute_rate: np.ndarray
    credit_memo_rate: np.ndarray
    instalments: np.ndarray  # bool: pays large invoices in 2-3 instalments
    promise_rate: np.ndarray  # share of late invoices a collector gets a promise on
    keep_rate: np.ndarray  # share of promises kept (before any deterioration)
    credit_limit: np.ndarray
    collector: np.ndarray  # 0-based collector number

    def __len__(self) -> int:
        return len(self.archetype)


def currency_list(base_currency: str) -> tuple[str, ...]:
    """Currencies of the simulated book: the base currency first (the majority), then four others."""
    if base_currency not in CURRENCIES:
        raise ValueError(f"base currency {base_currency!r} not supported; use one of {sorted(CURRENCIES)}")
    others = [c for c in ("USD", "EUR", "GBP", "CAD", "JPY", "CHF") if c != base_currency]
    return (base_currency, *others[: len(CURRENCY_SHARE) - 1])


def draw_customers(
    rng: np.random.Generator, n: int, start_day: int, end_day: int, base_currency: str, world: World | None = None
) -> Customers:
    """Draw ``n`` customers active in the window [start_day, end_day] (day numbers) from `world` (default: World())."""
    world = world or World()
    currencies = currency_list(base_currency)
    window = end_day - start_day
    u = rng.random((n, 12))
    archetype = np.searchsorted(World._cdf(world.archetype_share), u[:, 0], side="right").clip(0, 4)
    segment = np.searchsorted(np.cumsum(SEGMENT_SHARE), u[:, 1], side="right").clip(0, 2)
    currency = np.searchsorted(World._cdf(world.currency_share), u[:, 2], side="right").clip(0, 4)
    country = np.empty(n, dtype="U2")
    usd_per_unit = np.empty(n)
    minor_scale = np.empty(n)
    for k, code in enumerate(currencies):
        rate, _, countries, shares, scale = CURRENCIES[code]
        mine = currency == k
        country[mine] = np.array(countries)[rng.choice(len(countries), mine.sum(), p=np.array(shares))]
        usd_per_unit[mine], minor_scale[mine] = rate, scale
    terms_cdf = np.cumsum(TERMS_SHARE, axis=1)[segment]
    terms_days = TERMS[(u[:, 3:4] > terms_cdf).sum(axis=1).clip(0, 3)]
    habit = np.searchsorted(World._cdf(world.habit_share), u[:, 4], side="right").clip(0, 8)
    quarter = HABITS.index("quarter_end")
    habit = np.where((habit == quarter) & (segment == 2), HABITS.index("month_end"), habit)

    # Activity: most customers are there from the start; some onboard later, some churn.
    late_start = u[:, 5] < 0.2
    active_from = start_day + np.where(late_start, (rng.random(n) * window * 0.9).astype(np.int64), 0)
    churn = u[:, 6] < 0.05
    active_to = np.where(churn, active_from + ((end_day - active_from) * rng.random(n)).astype(np.int64), end_day)

    log_median_usd = np.log(MEDIAN_INVOICE_USD[segment]) + rng.normal(0.0, 0.6, n)
    log_median_amount = log_median_usd - np.log(usd_per_unit)
    log_sigma_amount = rng.uniform(0.4, 0.9, n)
    invoices_per_month = INVOICES_PER_MONTH[segment] * np.exp(rng.normal(-0.25, 0.7, n))

    is_ = {name: archetype == k for k, name in enumerate(ARCHETYPES)}
    delay_base = np.select(
        [is_["prompt"], is_["late"], is_["very_late"], is_["deteriorating"], is_["improving"]],
        [
            rng.normal(-3.0, 3.0, n),
            rng.uniform(3, 20, n),
            rng.uniform(25, 55, n),
            rng.uniform(-4, 6, n),
            rng.uniform(25, 45, n),
        ],
    )
    delay_base = delay_base - np.where(habit == quarter, 30.0, 0.0)
    delay_end = np.where(is_["improving"], rng.uniform(-2, 8, n), delay_base)
    delay_sd = np.where(is_["prompt"], rng.uniform(1.5, 4, n), rng.uniform(3, 12, n))
    drift_sd = rng.uniform(1.5, 6.0, n)
    never = np.int64(end_day + 100_000)
    onset_day = np.where(is_["deteriorating"], start_day + (rng.uniform(0.1, 0.85, n) * window), never)
    onset_day = onset_day.astype(np.int64)
    slope = np.where(is_["deteriorating"], rng.uniform(1.5, 6.0, n), 0.0)
    fails = is_["deteriorating"] & (u[:, 7] < 0.55)
    failure_day = np.where(fails, onset_day + rng.uniform(90, 330, n), never).astype(np.int64)
    # A customer that failed gets put on credit hold: no more invoices a few weeks later.
    active_to = np.minimum(active_to, failure_day + rng.integers(10, 60, n))
    active_from = np.minimum(active_from, active_to)

    squeezed = u[:, 8] < np.where(is_["deteriorating"] | is_["very_late"], 0.35, 0.10)
    squeeze_from = start_day + (rng.random(n) * window).astype(np.int64)
    squeeze_to = np.where(squeezed, squeeze_from + rng.integers(21, 75, n), squeeze_from)

    dispute_prone = u[:, 9] < 0.1
    dispute_rate = np.where(dispute_prone, rng.uniform(0.06, 0.15, n), rng.uniform(0.004, 0.03, n))
    credit_memo_rate = rng.uniform(0.01, 0.05, n)
    instalments = (u[:, 10] < 0.12) & ~is_["prompt"]
    promise_rate = rng.uniform(0.1, 0.4, n)
    keep_rate = np.select(
        [is_["deteriorating"], is_["very_late"]],
        [rng.uniform(0.4, 0.7, n), rng.uniform(0.5, 0.8, n)],
        rng.uniform(0.75, 0.95, n),
    )

    monthly_usd = np.exp(log_median_usd + log_sigma_amount**2 / 2) * invoices_per_month
    limit = monthly_usd * rng.uniform(1.5, 4.0, n) / usd_per_unit
    step = 10.0 ** np.floor(np.log10(np.maximum(limit, 1000.0)) - 1)
    credit_limit = np.maximum(np.round(limit / step) * step, 1000.0)
    n_collectors = max(3, round(n / 500))
    collector = rng.integers(0, n_collectors, n)
    return Customers(
        currencies=currencies,
        archetype=archetype,
        segment=segment,
        currency=currency,
        country=country,
        terms_days=terms_days,
        habit=habit,
        snap_back=is_["prompt"] | (is_["improving"] & (u[:, 11] < 0.3)),
        active_from=active_from,
        active_to=active_to,
        invoices_per_month=invoices_per_month,
        log_median_amount=log_median_amount,
        log_sigma_amount=log_sigma_amount,
        minor_scale=minor_scale,
        delay_base=delay_base,
        delay_end=delay_end,
        delay_sd=delay_sd,
        drift_sd=drift_sd,
        onset_day=onset_day,
        slope=slope,
        failure_day=failure_day,
        squeeze_from=squeeze_from,
        squeeze_to=squeeze_to,
        dispute_rate=dispute_rate,
        credit_memo_rate=credit_memo_rate,
        instalments=instalments,
        promise_rate=promise_rate,
        keep_rate=keep_rate,
        credit_limit=credit_limit,
        collector=collector,
    )


def customer_names(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Company names such as 'Cobalt Logistics GmbH' (legal suffix by country; no commas)."""
    n = len(country)
    first = NAME_FIRST[rng.integers(0, len(NAME_FIRST), n)]
    second = NAME_SECOND[rng.integers(0, len(NAME_SECOND), n)]
    countries, which = np.unique(country, return_inverse=True)
    suffix = np.array([SUFFIX[c] for c in countries], dtype="U8")[which]
    return np.strings.add(np.strings.add(np.strings.add(first, " "), np.strings.add(second, " ")), suffix)


def fx_rates_table(
    rng: np.random.Generator, currencies: tuple[str, ...], start_day: int, end_day: int, base_currency: str
) -> pd.DataFrame:
    """Weekly rates to the base currency: the start day, then every Monday until end (log random walk)."""
    first_monday = start_day + (7 - (start_day + 3) % 7) % 7
    mondays = np.arange(first_monday if first_monday > start_day else first_monday + 7, end_day + 1, 7)
    days = np.concatenate([[start_day], mondays]).astype(np.int64)
    steps = rng.normal(0.0, 1.0, (len(currencies), len(days)))
    steps[:, 0] = 0.0
    usd_value = {}
    for k, code in enumerate(currencies):
        rate, vol, *_ = CURRENCIES[code]
        usd_value[code] = rate * np.exp(np.cumsum(steps[k] * vol))
    others = [c for c in currencies if c != base_currency]
    rates = [np.round(usd_value[c] / usd_value[base_currency], 8) for c in others]
    return pd.DataFrame(
        {
            "date": to_dates(np.tile(days, len(others))),
            "currency": np.repeat(np.array(others, dtype=object), len(days)).astype(str),
            "rate_to_base": np.concatenate(rates) if rates else np.array([], dtype=float),
        }
    )
