"""Options shared by the commands: the as-of date and backtest cutoffs, parsed once when the command line is read.

A bad value stops the command with exit code 2 and one line naming the option and the expected format (typer's
usage error), before any ledger is loaded. The commands receive typed values (features.dates): a `RequestedAsOf`
holding a day-precision `pd.Timestamp` or None for 'latest' (resolved against the loaded ledger by
`features.dates.resolve_as_of`).
Typer `parser=` functions are used rather than `callback=`, so that each parameter is annotated with its real type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pandas as pd
import typer

from features.dates import (
    AS_OF_FORMAT,
    AS_OF_LIST_FORMAT,
    LATEST,
    Latest,
    parse_as_of,
    parse_as_of_list,
    parse_dates,
    resolve_as_of,
    resolve_as_of_list,
)
from features.errors import LedgerError
from training.contract import ForecastGroup


@dataclass(frozen=True)
class RequestedAsOf:
    """`--as-of` as given: a typed date, or None for 'latest' (typer needs one type that is never None)."""

    date: pd.Timestamp | None

    def resolve(self, known_until: pd.Timestamp) -> pd.Timestamp:
        """The date to use: the one given, or the ledger's `known_until` for 'latest'."""
        return resolve_as_of(self.date, known_until)

    def __str__(self) -> str:  # as --help shows a default
        return LATEST if self.date is None else str(self.date.date())


@dataclass(frozen=True)
class RequestedAsOfs:
    """`payrisk score --as-of` as given: one date, a comma list, or ranges START..END (features.dates), typed."""

    parts: tuple[tuple[pd.Timestamp | Latest, pd.Timestamp | Latest], ...]

    def resolve(self, known_until: pd.Timestamp, closing_days: tuple[object, ...] = ()) -> list[pd.Timestamp]:
        """The dates to score, in the order given, each once: ranges expanded to the company's business days."""
        return resolve_as_of_list(list(self.parts), known_until, closing_days)

    def __str__(self) -> str:
        return ",".join(_text(a) if a is b else f"{_text(a)}..{_text(b)}" for a, b in self.parts)


def _text(value: pd.Timestamp | Latest) -> str:
    return value if isinstance(value, str) else str(value.date())


def as_of_list_value(text: str | RequestedAsOfs) -> RequestedAsOfs:
    """`--as-of` text of `payrisk score` -> typed parts. Raises typer.BadParameter (exit 2) for a bad value."""
    if isinstance(text, RequestedAsOfs):
        return text
    try:
        return RequestedAsOfs(tuple(parse_as_of_list(text)))
    except LedgerError as exc:
        raise typer.BadParameter(str(exc)) from exc


class Cutoffs(list[pd.Timestamp]):
    """`--cutoffs` as given: typed dates, in order (a list subclass, so typer sees one value, not a repeated option)."""


def as_of_value(text: str | RequestedAsOf) -> RequestedAsOf:
    """`--as-of` text -> a typed date, or 'latest'. Raises typer.BadParameter (exit 2) for a bad value.

    A default that is already a RequestedAsOf (click passes defaults through the parser too) is returned as it is.
    """
    if isinstance(text, RequestedAsOf):
        return text
    try:
        value = parse_as_of(text)
    except LedgerError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return RequestedAsOf(None if isinstance(value, str) else value)


def cutoffs_value(text: str) -> Cutoffs:
    """`--cutoffs D1,D2,...` text -> typed dates. Raises typer.BadParameter (exit 2) for a bad value."""
    try:
        return Cutoffs(parse_dates(text))
    except LedgerError as exc:
        raise typer.BadParameter(str(exc)) from exc


AsOfOption = Annotated[
    RequestedAsOf, typer.Option("--as-of", parser=as_of_value, metavar="DATE", help=AS_OF_FORMAT + ".")
]
"""`--as-of DATE|latest`, required; give a default (`= LATEST_AS_OF`) where the command has one."""
LATEST_AS_OF = RequestedAsOf(None)
AsOfListOption = Annotated[
    RequestedAsOfs,
    typer.Option(
        "--as-of",
        parser=as_of_list_value,
        metavar="DATES",
        help=AS_OF_LIST_FORMAT + "; business days are weekdays that are not a company closing day.",
    ),
]
"""`--as-of` of `payrisk score`: one date, a list or a range, required."""
CutoffsOption = Annotated[
    Cutoffs | None,
    typer.Option(
        "--cutoffs",
        parser=cutoffs_value,
        metavar="D1,D2,...",
        help="Comma-separated YYYY-MM-DD dates (default: 8 cutoffs whose outcomes are fully known, mixing month ends, "
        "quarter ends, mid-months and a date whose next month end falls on a weekend; fewer on a short ledger).",
    ),
]
GroupByOption = Annotated[
    ForecastGroup | None,
    typer.Option("--group-by", help="Group the forecast by " + ", ".join(g.value for g in ForecastGroup) + "."),
]
