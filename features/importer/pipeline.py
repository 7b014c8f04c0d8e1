"""Import real ERP / AR exports into the ledger contract, driven by a declarative TOML mapping.

`import_exports(mapping, sources, out_dir)` reads the source files the mapping names, renames, cleans and parses
their cells, derives what the export lacks (due dates, customers, payments, disputes, write-offs) and writes the
contract CSVs. Nothing disappears silently: per source file, rows read = rows written + rows filtered, and every
assumption applied is listed in the report. The mapping format is documented in docs/mapping.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.errors import MappingError, Problem
from features.importer.build import build_invoices, build_table, credit_memo_rows, make_unique
from features.importer.derive import (
    check_open_amounts,
    derive_customers,
    derive_disputes,
    derive_payments,
    derive_write_offs,
    export_date,
    settlement,
)
from features.importer.fields import FieldReader
from features.importer.mapping import INVOICE_HELPERS, Mapping, load_mapping
from features.importer.parse import SourceDataError, cell_count
from features.importer.read import (
    FILE,
    ROW,
    SourceCount,
    Tally,
    filter_rows,
    list_source_files,
    match_files,
    missing_column,
    read_source,
)
from features.ledger.contract import DATE_FORMAT, ISO_3166, TABLES
from features.ledger.extras import MANIFEST, PREFIX, ExtraFeature, write_manifest

__all__ = ["ImportReport", "SourceCount", "import_exports", "load_mapping"]


@dataclass
class ImportReport:
    """What an import did: rows written per output table, row accounting per source file, assumptions applied."""

    out_dir: Path
    tables: dict[str, int]
    sources: list[SourceCount]
    notes: list[str] = field(default_factory=list)

    def rows_read(self, file_name: str) -> int:
        """Rows read from one source file (summed over the tables that read it)."""
        return sum(c.rows_read for c in self.sources if c.file == file_name)


def _read_sources(
    mapping: Mapping, sources: list[Path], notes: list[str]
) -> tuple[dict[str, pd.DataFrame], list[SourceCount]]:
    files = list_source_files(sources)
    frames: dict[str, pd.DataFrame] = {}
    counts: list[SourceCount] = []
    used: set[Path] = set()
    for name, spec in mapping.tables.items():
        if spec.derived:
            continue
        parts = []
        for path in match_files(spec, files):
            raw = read_source(path, spec.read, (*spec.columns.values(), *spec.where, *spec.where_not))
            used.add(path)
            count = SourceCount(name, path.name, len(raw))
            counts.append(count)
            named = [(f"columns.{field}", column) for field, column in spec.columns.items()]
            features = [*spec.features.values()]
            if name == "invoices" and mapping.tables["customers"].derived:  # customer features from invoice rows
                features += [f for f in mapping.tables["customers"].features.values()]
            for feature in features:
                named.append((f"features.{feature.name}", feature.column))
                if feature.known_from:
                    named.append((f"features.{feature.name}.known_from", feature.known_from))
            for purpose, column in [*named, *(("keep", column) for column in spec.keep)]:
                if column not in raw.columns:
                    raise missing_column(spec, raw, column, purpose, path, spec.read)
            parts.append(filter_rows(raw, spec, count))
        frames[name] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    unused = sorted(rel for path, rel in files.items() if path not in used)
    if unused:
        notes.append(f"source files not used by the mapping: {', '.join(unused)}")
    return frames, counts


def import_exports(mapping_path: Path, sources: list[Path], out_dir: Path) -> ImportReport:
    """Import ERP/AR exports into `out_dir` as contract CSVs; raises MappingError (or SourceDataError, a
    MappingError naming every bad cell) when the mapping does not fit the files."""
    mapping = load_mapping(Path(mapping_path))
    notes: list[str] = []
    frames, counts = _read_sources(mapping, [Path(s) for s in sources], notes)
    tally = Tally(counts)
    problems: list[Problem] = []
    specs = mapping.tables
    readers = {name: FieldReader(frame, specs[name], mapping, problems) for name, frame in frames.items()}
    invoices, memos = build_invoices(readers["invoices"], tally, notes)
    customer_features = specs["customers"].features if specs["customers"].derived else {}
    extra_columns = readers["invoices"].features({**specs["invoices"].features, **customer_features})
    invoices = pd.concat([invoices, extra_columns.loc[invoices.index]], axis=1)
    if invoices.empty and not problems:
        why = "; ".join(
            f"{c.file}: {c.rows_read} read, filtered {c.filtered or 'none'}" for c in counts if c.table == "invoices"
        )
        raise MappingError(
            f"{mapping.path.name}: no invoice rows left to import ({why}); check [invoices] file, where and where_not"
        )
    dup = int(invoices["invoice_id"].duplicated().sum())
    if dup:
        notes.append(
            f"invoices: {dup} repeated invoice_id(s) (several line items or overlapping exports?); "
            f"the validator will report them."
        )
    tables = {name: build_table(reader, tally, notes) for name, reader in readers.items() if name != "invoices"}
    if "customers" in tables and specs["customers"].features:
        features = readers["customers"].features(specs["customers"].features)
        tables["customers"] = pd.concat([tables["customers"], features.loc[tables["customers"].index]], axis=1)
    tables["invoices"] = invoices
    _raise_if(problems, mapping)
    uses = []
    if "disputes" in specs and specs["disputes"].derived:
        uses.append("derived dispute dates are never later than it")
    if "written_off" in invoices and specs["adjustments"].options.get("write_off_date") == "export_date":
        uses.append("write-offs are dated on it")
    # always reported when inferred (every assumption is): nothing else in this import depends on it otherwise
    as_of = export_date(invoices, mapping.export_date, notes, "; ".join(uses) or "nothing in this import depends on it")
    paid, written = settlement(invoices, memos)
    if specs["customers"].derived:
        tables["customers"] = derive_customers(invoices, specs["customers"], notes)
        for feature in specs["customers"].features.values():  # not invoice columns: only the customers carry them
            invoices = invoices.drop(columns=[c for c in (feature.ledger_column, feature.ledger_known_from) if c])
        tables["invoices"] = invoices
    else:
        missing = set(invoices["customer_id"]) - set(tables["customers"]["customer_id"])
        if missing:
            notes.append(
                f"customers: {len(missing)} customer ID(s) of the invoices are not in the customer file "
                f"(e.g. {min(missing)!r}); the validator will reject their invoices."
            )
    _note_countries(tables["customers"], specs, notes)
    if specs["payments"].derived:
        tables["payments"] = derive_payments(invoices, paid, specs["payments"], notes)
    elif "open_amount" in invoices:
        check_open_amounts(invoices, tables["payments"], memos, notes)
    if "disputes" in specs and specs["disputes"].derived:
        tables["disputes"] = derive_disputes(invoices, specs["disputes"], as_of, notes)
    elif "disputed" in invoices:
        notes.append("disputes: read from their own file; the invoices' dispute flag is not used.")
    if "adjustments" in specs:
        parts = [] if specs["adjustments"].derived else [tables["adjustments"]]
        if specs["invoices"].negative_amounts == "credit_memo":
            parts.append(credit_memo_rows(memos, notes, invoices["invoice_id"]))
        if "written_off" in invoices:
            flag = specs["invoices"].columns["written_off"]
            parts.append(derive_write_offs(invoices, written, specs["adjustments"], as_of, notes, problems, flag))
        tables["adjustments"] = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    _raise_if(problems, mapping)
    for reader in readers.values():
        reader.note_defaults(notes)
    for name, table in TABLES.items():
        if name in tables and table.key and name not in ("invoices", "customers"):
            tables[name] = make_unique(tables[name], table.key, name, specs[name].id_prefix, notes)
    written = _write(tables, Path(out_dir), notes)
    _write_manifest(mapping, Path(out_dir), notes)
    return ImportReport(Path(out_dir), written, counts, notes)


def _note_countries(customers: pd.DataFrame, specs: dict, notes: list[str]) -> None:
    """Country cells that are not ISO 3166-1 alpha-2 codes (the validator warns on each customer): say how to
    translate them in the mapping, with a line to paste."""
    if "country" not in customers:
        return
    country = customers["country"].astype("str").fillna("")
    unknown = country[~country.isin(ISO_3166) & country.ne("") & country.ne("nan")]
    if unknown.empty:
        return
    derived = specs["customers"].derived
    section, field = ("invoices", "customer_country") if derived else ("customers", "country")
    names = unknown.value_counts().index.tolist()
    shown = ", ".join(f'"{name}" = "??"' for name in names[:8])
    notes.append(
        f"customers: {len(unknown)} customer(s) have a country that is not an ISO 3166-1 alpha-2 code "
        f"({len(names)} distinct value(s), e.g. {', '.join(repr(n) for n in names[:3])}); payrisk validate will warn "
        f"on each. Translate them under [{section}.values]: {field} = {{ {shown}{', ...' if len(names) > 8 else ''} "
        f"}} (two-letter codes such as US, DE, GB), or, if the column holds regions rather than countries, map it "
        f"to {'customer_segment' if derived else 'segment'} instead."
    )


def _write_manifest(mapping: Mapping, out_dir: Path, notes: list[str]) -> None:
    """features.json listing the declared extra features, beside the ledger files (features.ledger.extras)."""
    extras = [
        ExtraFeature(f.name, f.kind, table, f.ledger_column, f.ledger_known_from)  # type: ignore[arg-type]
        for table in ("invoices", "customers")
        for f in mapping.tables[table].features.values()
    ]
    if not extras:
        if (out_dir / MANIFEST).exists():
            notes.append(
                f"{out_dir / MANIFEST} was already there but this mapping declares no features; remove it if it "
                f"does not belong to this ledger (the validator checks the columns it declares)."
            )
        return
    write_manifest(out_dir, extras)
    described = ", ".join(
        f"{e.column} ({e.kind}, {e.table}, known "
        f"{'from ' + e.known_from if e.known_from else 'at issue' if e.table == 'invoices' else 'always'})"
        for e in extras
    )
    notes.append(f"features: {len(extras)} extra model feature(s) written and listed in {MANIFEST}: {described}.")


def _raise_if(problems: list[Problem], mapping: Mapping) -> None:
    if problems:
        columns = len({(p.file, p.column) for p in problems})
        raise SourceDataError(
            f"{mapping.path.name}: {cell_count(problems):,} cell(s) in {columns} column(s) of the source files do "
            f"not fit the mapping",
            problems,
        )


def _write(tables: dict[str, pd.DataFrame], out_dir: Path, notes: list[str]) -> dict[str, int]:
    """Contract columns in contract order (plus kept extras); ISO dates, empty cells for missing values."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name, table in TABLES.items():
        if name not in tables:
            for stale in (out_dir / f"{name}.csv", out_dir / f"{name}.parquet"):
                if stale.exists():
                    notes.append(
                        f"{stale} was already there and is not part of this import; remove it if it "
                        f"does not belong to this ledger."
                    )
            continue
        frame = tables[name]
        contract = [c.name for c in table.columns]
        helpers = INVOICE_HELPERS if name == "invoices" else {}
        extras = [c for c in frame.columns if c not in contract and c not in (FILE, ROW) and c not in helpers]
        out = pd.DataFrame(index=frame.index)
        for column in table.columns:
            if column.name not in frame:
                out[column.name] = ""
                continue
            values = frame[column.name]
            if column.kind == "date":
                values = pd.to_datetime(values).dt.strftime(DATE_FORMAT)
            elif column.kind == "amount" or column.name == "credit_limit":
                values = pd.to_numeric(values).round(4)
            out[column.name] = values
        for column in extras:
            values = frame[column]
            if column.startswith(PREFIX) and pd.api.types.is_datetime64_any_dtype(values):  # a feature's known_from
                values = values.dt.strftime(DATE_FORMAT)
            out[column] = values
        out.to_csv(out_dir / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
        written[name] = len(out)
    return written
