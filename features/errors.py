"""Errors and problems a user of payrisk can get when reading a ledger."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about a ledger: where it is (file, spreadsheet row, column), what was found, what was expected.

    ``row`` is the row number as a spreadsheet shows it: the header is row 1, the first data row is row 2.
    ``row`` is None for file-level problems (a missing file or column).
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    rule: str
    severity: Severity = "error"

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        value = f" (value {self.value!r})" if self.value not in (None, "") else ""
        return f"{self.severity}: {where}{value}: {self.message}"


class PayriskError(Exception):
    """Base class of the errors payrisk raises on purpose."""


class LedgerError(PayriskError):
    """A ledger could not be loaded; ``problems`` says exactly where and why."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        self.problems = list(problems or [])
        details = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(message + ("\n" + details + more if details else ""))


class MappingError(PayriskError):
    """An import mapping file is invalid or does not fit the source files."""
