"""Reading the mapped fields of one table's source rows: rename, clean, default, parse, and name every bad cell."""

from __future__ import annotations

import re

import pandas as pd

from features.errors import Problem
from features.importer.mapping import FeatureSpec, Mapping, TableSpec, fields_of
from features.importer.parse import (
    MoreCells,
    as_text,
    parse_amounts,
    parse_dates,
    parse_flags,
    parse_ids,
    parse_whole_numbers,
    problems_for,
    suggest_date_format,
)
from features.importer.read import FILE, ROW, missing_column
from features.ledger.contract import ADJUSTMENT_KINDS

AMOUNT_LIKE = {"credit_limit"}  # contract "number" columns that hold money
MAX_LISTED = 100
"""Bad cells listed one by one per field; beyond this a single summary problem counts the rest."""


class FieldReader:
    """The typed fields of one table's (filtered) source rows; problems go to the shared `problems` list."""

    def __init__(self, frame: pd.DataFrame, spec: TableSpec, mapping: Mapping, problems: list[Problem]):
        self.frame, self.spec, self.mapping, self.problems = frame, spec, mapping, problems
        self.kinds = fields_of(spec.name)
        self.reported = pd.Series(False, index=frame.index)  # rows with a problem already (no follow-up errors)
        self.defaulted: dict[str, int] = {}  # field -> cells filled with its [defaults] value

    def has(self, field: str) -> bool:
        """Whether the mapping gives this field a source column or a default."""
        return self.spec.provides(field)

    def _column(self, field: str) -> str | None:
        column = self.spec.columns.get(field)
        if column is not None and column not in self.frame.columns:
            raise missing_column(self.spec, self.frame, column, f"columns.{field}")
        return column

    def original(self, field: str) -> pd.Series:
        """The cell as written in the source (for messages)."""
        column = self._column(field)
        if column is None:
            return pd.Series("", index=self.frame.index, dtype="str")
        return as_text(self.frame[column])

    def report(self, mask: pd.Series, field: str, message: str, rule: str) -> None:
        """One problem per masked row, naming the source column of `field`."""
        column = self.spec.columns.get(field, field)
        self.reported |= mask
        listed = mask & (mask.cumsum() <= MAX_LISTED)
        self.problems.extend(
            problems_for(
                listed,
                self.frame[FILE],
                self.frame[ROW],
                column,
                self.original(field),
                f"[{self.spec.name}] {field}: {message}",
                rule,
            )
        )
        more = int(mask.sum()) - MAX_LISTED
        if more > 0:  # the same message, so that the error groups it with the cells listed
            self.problems.append(
                MoreCells(
                    str(self.frame.loc[mask, FILE].iat[-1]),
                    None,
                    column,
                    None,
                    f"[{self.spec.name}] {field}: {message}",
                    rule,
                    cells=more,
                )
            )

    def text(self, field: str) -> pd.Series:
        """Cleaned text: empty markers -> '', [values] replacements, [extract] pattern, [defaults] for empties."""
        text = self.original(field)
        text = text.where(~text.isin(self.spec.read.empty_values), "")
        if field in self.spec.values:
            text = text.replace(self.spec.values[field])
        pattern = self.spec.extract.get(field)
        if pattern is not None:
            group = pattern if re.compile(pattern).groups else f"({pattern})"
            found = text.str.extract(group, expand=True)[0]
            self.report(
                text.ne("") & found.isna(),
                field,
                f"does not contain the pattern {pattern!r} given under [{self.spec.name}.extract]",
                "extract",
            )
            text = found.fillna("").astype("str")
        if field in self.spec.defaults:
            empty = text.eq("")
            self.defaulted[field] = int(empty.sum())
            text = text.where(~empty, self.spec.defaults[field])
        return text.astype("str")

    def note_defaults(self, notes: list[str]) -> None:
        """One note per [defaults] value used: how many cells it filled, and why (no column, or empty cells)."""
        name = self.spec.name
        for field, cells in self.defaulted.items():
            if not cells:
                continue
            value = self.spec.defaults[field]
            column = self.spec.columns.get(field)
            where = (
                f"the {cells:,} row(s) whose {column!r} cell is empty"
                if column is not None
                else f"all {cells:,} row(s) (no column mapped for it)"
            )
            notes.append(f"{name}: {field} = {value!r} (from [{name}.defaults]) used for {where}.")

    def _typed_source(self, field: str, check: str) -> bool:
        """True when the source column is already typed (Parquet numbers or datetimes), not text."""
        column = self._column(field)
        if column is None or field in self.spec.values or field in self.spec.extract:
            return False
        dtype = self.frame[column].dtype
        if check == "number":
            return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        return pd.api.types.is_datetime64_any_dtype(dtype)

    def get(self, field: str) -> pd.Series:
        """The typed values of a field (empty / NaN / NaT where missing); bad cells are reported."""
        kind = self.kinds[field]
        if kind == "number" and field in AMOUNT_LIKE:
            kind = "amount"
        text = self.text(field)
        read = self.spec.read
        if kind == "id":
            values, bad = parse_ids(text, self.mapping.strip_leading_zeros, self.mapping.upper_case_ids)
            message = (
                "a long number that Excel shortened to scientific notation (digits are lost); "
                "export this column as text"
            )
        elif kind == "date":
            formats = ("iso",) if self._typed_source(field, "date") else read.date_formats
            values, bad = parse_dates(text, formats)
            message = f"not a date in any of the formats tried: {', '.join(formats)}"
            if bad.any():
                message += self._date_hint(text[bad], formats)
        elif kind == "amount":
            decimal, thousands = (".", "") if self._typed_source(field, "number") else (read.decimal, read.thousands)
            values, bad = parse_amounts(text, decimal, thousands)
            message = (
                f"not an amount (decimal {decimal!r}, thousands {thousands!r}); write e.g. "
                f"1{thousands}234{decimal}50, -1234{decimal}50, (1{thousands}234{decimal}50) or 1234{decimal}50-"
            )
        elif kind == "number":
            values, bad = parse_whole_numbers(text)
            message = (
                f"no whole number found; give a number of days or map this text to one under [{self.spec.name}.values]"
            )
        elif kind == "flag":
            values, bad = parse_flags(text, read.true_values, read.false_values)
            message = (
                f"not a yes/no value; yes = {', '.join(read.true_values)}; no = "
                f"{', '.join(v for v in read.false_values if v) or '(empty)'}; add it to true_values or "
                f"false_values"
            )
        elif kind == "currency":
            values, bad = text.str.upper(), pd.Series(False, index=text.index)
        elif kind == "country":  # codes upper-cased; names kept as written, so that [.values] can translate them
            values = text.str.upper().where(text.str.len() == 2, text)
            bad = pd.Series(False, index=text.index)
        elif kind == "kind":
            values = text.str.lower().str.replace(r"[\s-]+", "_", regex=True)
            bad = values.ne("") & ~values.isin(ADJUSTMENT_KINDS)
            message = (
                f"unknown adjustment kind; expected {' or '.join(ADJUSTMENT_KINDS)} (translate the "
                f"export's words under [{self.spec.name}.values])"
            )
        else:
            values, bad = text, pd.Series(False, index=text.index)
        if bad.any():
            self.report(bad, field, message, f"parse_{kind}")
        return values

    def _date_hint(self, bad: pd.Series, formats: tuple[str, ...]) -> str:
        """What to write in the mapping: the date format that reads most of the failing cells, if one does."""
        found = suggest_date_format(bad, formats)
        section = "[files] (or [" + self.spec.name + "])"
        if found is None:
            return f"; no common date format reads them: list theirs in date_formats under {section}"
        fmt, fits = found
        share = "all" if fits == len(bad) else f"{fits:,} of the {len(bad):,}"
        return f'; "{fmt}" reads {share} of these cells: add it to date_formats under {section}'

    def require(self, field: str, values: pd.Series) -> None:
        """Report rows where a required field is empty."""
        empty = (values.isna() | values.astype(object).eq("")) & ~self.reported.reindex(values.index)
        self.report(empty, field, "required but empty", "required_empty")

    def keep(self) -> pd.DataFrame:
        """The extra source columns the mapping asks to carry along, as text."""
        kept = pd.DataFrame(index=self.frame.index)
        for column in self.spec.keep:
            if column not in self.frame.columns:
                raise missing_column(self.spec, self.frame, column, "keep")
            kept[column] = as_text(self.frame[column])
        return kept

    def features(self, features: dict[str, FeatureSpec]) -> pd.DataFrame:
        """The declared extra features of these rows as ledger columns: x_<name> (numbers as float, categories as
        text, "" when empty) and x_<name>_known_from (dates) for dated ones. Bad cells are reported, each naming
        the file, row, source column, value and what was expected."""
        out = pd.DataFrame(index=self.frame.index)
        read = self.spec.read
        for feature in features.values():
            for column, what in ((feature.column, feature.kind), (feature.known_from, "date")):
                if column is None:
                    continue
                if column not in self.frame.columns:
                    raise missing_column(self.spec, self.frame, column, f"features.{feature.name}")
                original = as_text(self.frame[column])
                text = original.where(~original.isin(read.empty_values), "")
                target = feature.ledger_column if what != "date" else feature.ledger_known_from
                if what == "categorical":
                    out[target] = text.astype("str")
                    continue
                if what == "numeric":
                    typed = pd.api.types.is_numeric_dtype(self.frame[column].dtype) and not pd.api.types.is_bool_dtype(
                        self.frame[column].dtype
                    )
                    decimal, thousands = (".", "") if typed else (read.decimal, read.thousands)
                    values, bad = parse_amounts(text, decimal, thousands)
                    message = (
                        f"[{self.spec.name}.features] {feature.name}: numeric feature, not a number (decimal "
                        f"{decimal!r}, thousands {thousands!r}); write e.g. 1{thousands}234{decimal}50 or "
                        f'-12{decimal}5, or declare it kind = "categorical"'
                    )
                else:
                    formats = (
                        ("iso",)
                        if pd.api.types.is_datetime64_any_dtype(self.frame[column].dtype)
                        else read.date_formats
                    )
                    values, bad = parse_dates(text, formats)
                    message = (
                        f"[{self.spec.name}.features] {feature.name}: known_from is not a date in any of the "
                        f"formats tried: {', '.join(formats)}"
                    )
                if bad.any():
                    self.reported |= bad
                    self.problems.extend(
                        problems_for(
                            bad, self.frame[FILE], self.frame[ROW], column, original, message, f"feature_{what}"
                        )
                    )
                out[target] = values
        return out
