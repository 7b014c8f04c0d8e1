"""Finding and reading the source files of an import, and the row filters (every dropped row is counted)."""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from features.errors import MappingError
from features.importer.mapping import ReadOptions, TableSpec
from features.importer.parse import as_text

FILE = "_file"
ROW = "_row"
"""Columns added to every source frame: the file name and the spreadsheet row (header = row 1, skipped rows count)."""


@dataclass
class SourceCount:
    """Row accounting of one source file read for one table: rows_read = rows_written + rows_filtered."""

    table: str
    file: str
    rows_read: int
    written: dict[str, int] = field(default_factory=dict)  # output table -> rows
    filtered: dict[str, int] = field(default_factory=dict)  # reason -> rows

    @property
    def rows_written(self) -> int:
        return sum(self.written.values())

    @property
    def rows_filtered(self) -> int:
        return sum(self.filtered.values())


def list_source_files(sources: list[Path]) -> dict[Path, str]:
    """Every file named or inside a named directory -> its path relative to what was given (for globs)."""
    files: dict[Path, str] = {}
    for source in sources:
        source = Path(source)
        if source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")):
                files[path] = path.relative_to(source).as_posix()
        elif source.is_file():
            files[source] = source.name
        else:
            raise MappingError(f"source not found: {source}")
    return files


def match_files(spec: TableSpec, files: dict[Path, str]) -> list[Path]:
    """The files a table's `file` patterns select: a file name or glob, case-insensitive; a pattern with '/' is
    matched against the path relative to the source directory."""
    chosen: list[Path] = []
    for pattern in spec.files:
        low = pattern.lower()
        hits = [
            path
            for path, rel in files.items()
            if (PurePosixPath(rel.lower()).match(low) if "/" in low else fnmatch.fnmatch(path.name.lower(), low))
        ]
        if not hits:
            names = ", ".join(sorted(rel for rel in files.values())) or "no files"
            raise MappingError(f"[{spec.name}] file = {pattern!r} matches none of the source files ({names})")
        chosen.extend(path for path in hits if path not in chosen)
    return chosen


def read_source(path: Path, options: ReadOptions, expected: tuple[str, ...] = ()) -> pd.DataFrame:
    """One source file as a frame with the _file and _row columns; CSV cells stay text, Parquet keeps its types.

    `expected` (the source columns the mapping names) only serves to point at the header line in errors."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".xlsm"):
        raise MappingError(
            f"{path.name}: Excel files are not read directly; save the sheet as CSV (UTF-8) and "
            f"point the mapping at the CSV"
        )
    if suffix == ".parquet":
        frame = pd.read_parquet(path).reset_index(drop=True)
        first_row = 2
    else:
        frame = _read_csv(path, options, expected)
        first_row = options.skip_rows + 2
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    frame[FILE] = path.name
    frame[ROW] = np.arange(first_row, first_row + len(frame))
    return frame


def _read_csv(path: Path, options: ReadOptions, expected: tuple[str, ...]) -> pd.DataFrame:
    kwargs = {
        "sep": options.delimiter,
        "encoding": options.encoding,
        "skiprows": options.skip_rows,
        "dtype": str,
        "keep_default_na": False,
        "na_filter": False,
        "skip_blank_lines": False,
    }
    if options.skip_footer:
        kwargs.update(skipfooter=options.skip_footer, engine="python")
    try:
        return pd.read_csv(path, **kwargs)
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"{path.name}: cannot be read as {options.encoding} ({exc.reason}); "
            f'set encoding = "latin-1" (or "cp1252") in the mapping'
        ) from exc
    except LookupError as exc:
        raise MappingError(f"{path.name}: unknown encoding {options.encoding!r}") from exc
    except pd.errors.EmptyDataError as exc:
        raise MappingError(f"{path.name}: the file is empty (or skip_rows = {options.skip_rows} skips it all)") from exc
    except pd.errors.ParserError as exc:
        lines = [(c, _header_line(path, options, c)) for c in expected]
        found = next(((c, n) for c, n in lines if n is not None), None)
        hint = (
            f" The header (with {found[0]!r}) is on line {found[1]}: set skip_rows = {found[1] - 1}."
            if found
            else " Check delimiter, and skip_rows for title lines above the header."
        )
        raise MappingError(
            f"{path.name}: not readable with delimiter {options.delimiter!r} and skip_rows = "
            f"{options.skip_rows}: {str(exc).strip()}.{hint}"
        ) from exc


def _header_line(path: Path | None, options: ReadOptions | None, column: str) -> int | None:
    """The line (1-based) among the first 50 of a text file that holds `column` as a whole field, if any."""
    if path is None or options is None or path.suffix.lower() == ".parquet":
        return None
    try:
        with path.open(encoding=options.encoding, errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                fields = [f.strip().strip('"') for f in line.rstrip("\r\n").split(options.delimiter)]
                if column in fields:
                    return number
                if number >= 50:
                    break
    except (OSError, LookupError):
        return None
    return None


def missing_column(
    spec: TableSpec,
    frame: pd.DataFrame,
    column: str,
    purpose: str,
    path: Path | None = None,
    options: ReadOptions | None = None,
) -> MappingError:
    """A clear error for a source column the mapping names but the file lacks, with the likely fix."""
    present = [c for c in frame.columns if c not in (FILE, ROW)]
    file_name = frame[FILE].iat[0] if len(frame) else "the source file"
    hint = ""
    close = difflib.get_close_matches(column, present, n=1)
    line = _header_line(path, options, column)
    if line is not None and options is not None and line != options.skip_rows + 1:
        hint = f" The header (with {column!r}) is on line {line}: set skip_rows = {line - 1} for this file."
    elif close:
        hint = f" Did you mean {close[0]!r}?"
    elif len(present) == 1 and any(sep in present[0] for sep in (";", "\t", "|", ",")):
        hint = ' The whole header is one column: set delimiter (e.g. delimiter = ";") for this file.'
    return MappingError(
        f"{file_name}: [{spec.name}] {purpose} names column {column!r}, which the file does not "
        f"have.{hint} The file's columns are: {', '.join(repr(c) for c in present)}"
    )


def filter_rows(frame: pd.DataFrame, spec: TableSpec, count: SourceCount) -> pd.DataFrame:
    """Drop blank lines and rows outside `where` / inside `where_not`, counting each reason."""
    source = [c for c in frame.columns if c not in (FILE, ROW)]
    texts = {c: as_text(frame[c]) for c in source}
    blank = pd.Series(True, index=frame.index)
    for text in texts.values():
        blank &= text.eq("")
    keep = ~blank
    _count(count, "blank line", blank)
    for rules, inside in ((spec.where, True), (spec.where_not, False)):
        for column, allowed in rules.items():
            if column not in frame.columns:
                raise missing_column(spec, frame, column, "where" if inside else "where_not")
            hit = texts[column].isin(allowed)
            drop = keep & (~hit if inside else hit)
            label = f"{column} not in {list(allowed)}" if inside else f"{column} in {list(allowed)}"
            _count(count, label, drop)
            keep &= ~drop
    return frame[keep]


def _count(count: SourceCount, reason: str, mask: pd.Series) -> None:
    n = int(mask.sum())
    if n:
        count.filtered[reason] = count.filtered.get(reason, 0) + n


class Tally:
    """Books each source row as written (to which table) or filtered (why), per table and file."""

    def __init__(self, counts: list[SourceCount]):
        self.counts = {(c.table, c.file): c for c in counts}

    def _add(self, table: str, rows: pd.DataFrame, bucket: str, label: str) -> None:
        for file_name, n in rows[FILE].value_counts().items():
            target = getattr(self.counts[(table, file_name)], bucket)
            target[label] = target.get(label, 0) + int(n)

    def filtered(self, table: str, rows: pd.DataFrame, reason: str) -> None:
        self._add(table, rows, "filtered", reason)

    def written(self, table: str, rows: pd.DataFrame, target: str) -> None:
        self._add(table, rows, "written", target)
