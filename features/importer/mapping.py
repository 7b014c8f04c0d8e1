"""The import mapping: a TOML file saying how an ERP/AR export becomes the ledger contract (see docs/mapping.md).

This module only reads and checks the mapping; it never touches the source files.
"""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from features.errors import MappingError
from features.ledger.contract import TABLES
from features.ledger.extras import KINDS, NAME, PREFIX

READ_KEYS = {
    "delimiter",
    "encoding",
    "skip_rows",
    "skip_footer",
    "decimal",
    "thousands",
    "date_formats",
    "empty_values",
    "true_values",
    "false_values",
}
TABLE_KEYS = READ_KEYS | {
    "file",
    "where",
    "where_not",
    "keep",
    "negative_amounts",
    "id_prefix",
    "columns",
    "defaults",
    "values",
    "extract",
}
DERIVED_KEYS = {"disputes": {"opened"}, "adjustments": {"write_off_date"}}
FEATURE_TABLES = ("invoices", "customers")  # the tables whose sections may declare extra model features
FEATURE_KEYS = {"column", "kind", "known_from"}
DERIVABLE = ("customers", "payments", "adjustments", "disputes")

DEFAULT_EMPTY = ("", "nan", "NaN", "NaT", "NULL", "null", "None", "#N/A")
DEFAULT_TRUE = ("yes", "y", "true", "t", "1", "x", "ja", "j", "oui", "si", "on")
DEFAULT_FALSE = ("no", "n", "false", "f", "0", "nein", "non", "off", "")
DEFAULT_DATE_FORMATS = ("iso",)
ID_PREFIXES = {"payments": "PAY-", "adjustments": "ADJ-", "disputes": "DSP-", "promises": "PTP-"}

# Extra fields of an invoice row that are not invoice columns but feed derived tables.
INVOICE_HELPERS = {
    "payment_terms_days": "number",  # due date = invoice date + terms when there is none (or the reverse)
    "customer_name": "text",
    "customer_country": "country",
    "customer_segment": "text",
    "collector_id": "id",
    "credit_limit": "amount",  # -> derived customers
    "clearing_date": "date",
    "open_amount": "amount",
    "paid_amount": "amount",  # -> derived payments
    "disputed": "flag",
    "dispute_date": "date",
    "dispute_reason": "text",  # -> derived disputes
    "written_off": "flag",
    "write_off_date": "date",
    "write_off_amount": "amount",  # -> write-offs
    "reference_invoice": "id",  # the invoice a credit memo row reduces
}
NEGATIVE_POLICIES = {"invoices": ("error", "skip", "credit_memo")}
OTHER_NEGATIVE_POLICIES = ("error", "skip", "abs")
DISPUTE_OPENED = ("due_date", "invoice_date")
WRITE_OFF_DATES = ("clearing_date", "due_date", "invoice_date", "export_date")


@dataclass(frozen=True)
class ReadOptions:
    """How to read the source files of one table, and how to read their cells."""

    delimiter: str = ","
    encoding: str = "utf-8-sig"
    skip_rows: int = 0
    skip_footer: int = 0
    decimal: str = "."
    thousands: str = ","
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    empty_values: tuple[str, ...] = DEFAULT_EMPTY
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE


@dataclass(frozen=True)
class FeatureSpec:
    """An extra source column declared as a model feature (`[invoices.features]` / `[customers.features]`)."""

    name: str
    column: str  # the source column
    kind: str  # categorical or numeric
    known_from: str | None = None  # the source column dating when the value became known

    @property
    def ledger_column(self) -> str:
        return PREFIX + self.name

    @property
    def ledger_known_from(self) -> str | None:
        return None if self.known_from is None else f"{PREFIX}{self.name}_known_from"


@dataclass
class TableSpec:
    """One contract table: read from files (`files` set) or derived from the invoice rows (`files` empty)."""

    name: str
    files: tuple[str, ...] = ()
    read: ReadOptions = field(default_factory=ReadOptions)
    columns: dict[str, str] = field(default_factory=dict)  # contract column (or helper) -> source column
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    extract: dict[str, str] = field(default_factory=dict)
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    where_not: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keep: tuple[str, ...] = ()
    negative_amounts: str = "error"
    id_prefix: str = ""
    options: dict[str, str] = field(default_factory=dict)
    features: dict[str, FeatureSpec] = field(default_factory=dict)

    @property
    def derived(self) -> bool:
        return not self.files

    def provides(self, column: str) -> bool:
        return column in self.columns or column in self.defaults


@dataclass
class Mapping:
    """A checked mapping file."""

    path: Path
    tables: dict[str, TableSpec]
    strip_leading_zeros: bool = False
    upper_case_ids: bool = False
    export_date: dt.date | None = None


def _fail(path: Path, message: str) -> MappingError:
    return MappingError(f"{path.name}: {message}")


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_keys(path: Path, where: str, given: dict, allowed: set[str] | dict) -> None:
    for key in given:
        if key not in allowed:
            raise _fail(
                path, f"[{where}]: unknown key '{key}'{_suggest(key, allowed)}; allowed: {', '.join(sorted(allowed))}"
            )


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _texts(value: object) -> tuple[str, ...]:
    return tuple(_text(v) for v in value) if isinstance(value, list) else (_text(value),)


def _read_options(path: Path, where: str, section: dict, base: ReadOptions) -> ReadOptions:
    values = {k: section[k] for k in READ_KEYS if k in section}
    for key in ("date_formats", "empty_values", "true_values", "false_values"):
        if key in values:
            values[key] = _texts(values[key])
    if "empty_values" in values:  # the user's list adds to the standard markers of "missing"
        values["empty_values"] = tuple(dict.fromkeys(DEFAULT_EMPTY + values["empty_values"]))
    for key in ("true_values", "false_values"):
        if key in values:
            values[key] = tuple(v.lower() for v in values[key]) + (("",) if key == "false_values" else ())
    if "decimal" in values and "thousands" not in values and "thousands" not in section:
        values["thousands"] = "." if values["decimal"] == "," else ","
    options = ReadOptions(**{**base.__dict__, **values})
    if options.decimal not in (".", ","):
        raise _fail(path, f'[{where}] decimal must be "." or ",", not {options.decimal!r}')
    if options.thousands == options.decimal:
        raise _fail(path, f"[{where}] thousands and decimal separators are both {options.decimal!r}")
    for key in ("skip_rows", "skip_footer"):
        if not isinstance(getattr(options, key), int) or getattr(options, key) < 0:
            raise _fail(path, f"[{where}] {key} must be a whole number >= 0")
    return options


def _filters(path: Path, where: str, value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise _fail(path, f'[{where}] must be a table such as {{ "Document Type" = ["RV", "DR"] }}')
    return {str(k): _texts(v) for k, v in value.items()}


def fields_of(table: str) -> dict[str, str]:
    """The fields a mapping may fill for a table, with their kind (contract columns plus invoice helpers)."""
    kinds: dict[str, str] = {c.name: c.kind for c in TABLES[table].columns}  # helpers add kinds such as "flag"
    if table == "invoices":
        kinds.update(INVOICE_HELPERS)
    return kinds


def _features(path: Path, table: str, value: object) -> dict[str, FeatureSpec]:
    where = f"{table}.features"
    example = f'[{where}] paperless = {{ column = "PaperlessBill", kind = "categorical" }}'
    if not isinstance(value, dict):
        raise _fail(path, f"[{where}] must be a table of 'name = {{ column = ..., kind = ... }}' lines, e.g. {example}")
    out: dict[str, FeatureSpec] = {}
    for name, entry in value.items():
        if not NAME.match(name):
            raise _fail(
                path, f"[{where}] {name!r}: a feature name is lower case letters, digits and _ (e.g. paperless)"
            )
        if not isinstance(entry, dict):
            raise _fail(path, f"[{where}] {name} must be an inline table, e.g. {example}")
        _check_keys(path, f"{where}.{name}", entry, FEATURE_KEYS)
        column = entry.get("column")
        if not isinstance(column, str) or not column:
            raise _fail(path, f'[{where}] {name}: column = "<source column>" is required, e.g. {example}')
        kind = entry.get("kind", "categorical")
        if kind not in KINDS:
            raise _fail(
                path,
                f"[{where}] {name}: kind must be one of {', '.join(KINDS)}, not {kind!r}{_suggest(str(kind), KINDS)}",
            )
        known_from = entry.get("known_from")
        if known_from is not None and (not isinstance(known_from, str) or not known_from):
            raise _fail(
                path, f'[{where}] {name}: known_from must name the source date column, e.g. known_from = "ScoreDate"'
            )
        out[name] = FeatureSpec(name, column, str(kind), known_from)
    return out


def _table_spec(path: Path, name: str, section: dict, base: ReadOptions) -> TableSpec:
    allowed = TABLE_KEYS | DERIVED_KEYS.get(name, set()) | ({"features"} if name in FEATURE_TABLES else set())
    _check_keys(path, name, section, allowed)
    fields = fields_of(name)
    spec = TableSpec(name=name, read=_read_options(path, name, section, base))
    spec.files = _texts(section["file"]) if "file" in section else ()
    for key in ("columns", "defaults", "values", "extract"):
        given = section.get(key, {})
        if not isinstance(given, dict):
            raise _fail(path, f"[{name}.{key}] must be a table of 'field = value' lines")
        _check_keys(path, f"{name}.{key}", given, fields)
    spec.columns = {k: _text(v) for k, v in section.get("columns", {}).items()}
    spec.defaults = {k: _text(v) for k, v in section.get("defaults", {}).items()}
    spec.values = {k: {str(a): _text(b) for a, b in v.items()} for k, v in section.get("values", {}).items()}
    spec.extract = {k: _text(v) for k, v in section.get("extract", {}).items()}
    spec.where = _filters(path, f"{name}.where", section["where"]) if "where" in section else {}
    spec.where_not = _filters(path, f"{name}.where_not", section["where_not"]) if "where_not" in section else {}
    spec.keep = _texts(section["keep"]) if "keep" in section else ()
    clash = [column for column in spec.keep if column in fields]
    if clash:
        raise _fail(
            path,
            f"[{name}] keep = {clash}: these names are ledger columns; map them under "
            f"[{name}.columns] instead of keeping them",
        )
    policies = NEGATIVE_POLICIES.get(name, OTHER_NEGATIVE_POLICIES)
    spec.negative_amounts = _text(section.get("negative_amounts", "error"))
    if spec.negative_amounts not in policies:
        raise _fail(path, f"[{name}] negative_amounts must be one of {', '.join(policies)}")
    spec.id_prefix = _text(section.get("id_prefix", ID_PREFIXES.get(name, "")))
    spec.options = {k: _text(section[k]) for k in DERIVED_KEYS.get(name, set()) if k in section}
    spec.features = _features(path, name, section["features"]) if "features" in section else {}
    kept = [f.column for f in spec.features.values() if f.column in spec.keep]
    if kept:
        raise _fail(
            path, f"[{name}] keep = {kept} and [{name}.features] name the same column(s): declare each column once"
        )
    if spec.derived and (spec.columns or spec.where or spec.where_not or spec.keep):
        raise _fail(path, f"[{name}] has columns or filters but no 'file'; add file = \"<name or glob>\"")
    return spec


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; every mistake is a MappingError that says what to write instead."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError(f"mapping file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML: {exc}") from exc
    allowed = set(TABLES) | {"files", "ids"}
    _check_keys(path, "top level", document, allowed)
    files = document.get("files", {})
    _check_keys(path, "files", files, READ_KEYS | {"export_date"})
    base = _read_options(path, "files", files, ReadOptions())
    ids = document.get("ids", {})
    _check_keys(path, "ids", ids, {"strip_leading_zeros", "upper_case"})
    export_date = files.get("export_date")
    if isinstance(export_date, str):
        try:
            export_date = dt.date.fromisoformat(export_date)
        except ValueError as exc:
            raise _fail(path, f"[files] export_date must be a date like 2024-06-30, not {export_date!r}") from exc
    tables = {name: _table_spec(path, name, document[name], base) for name in TABLES if name in document}
    mapping = Mapping(
        path,
        tables,
        bool(ids.get("strip_leading_zeros", False)),
        bool(ids.get("upper_case", False)),
        export_date if isinstance(export_date, dt.date) else None,
    )
    _check_plan(mapping)
    return mapping


def _check_plan(mapping: Mapping) -> None:
    """Add the derived tables the mapping implies and check every required column has a source."""
    path, tables = mapping.path, mapping.tables
    invoices = tables.get("invoices")
    if invoices is None or invoices.derived:
        raise _fail(path, 'an [invoices] section with file = "..." is required')
    cols = invoices.columns
    if "customers" not in tables:
        tables["customers"] = TableSpec("customers")
    if "payments" not in tables:
        if "clearing_date" not in cols:
            raise _fail(
                path,
                'no payments: add a [payments] section with file = "...", or map the invoices\' '
                'clearing/paid date (clearing_date = "<column>" under [invoices.columns])',
            )
        tables["payments"] = TableSpec("payments", id_prefix=ID_PREFIXES["payments"])
    for name, helper in (("disputes", "disputed"), ("adjustments", "written_off")):
        if name not in tables and (
            helper in cols or (name == "adjustments" and invoices.negative_amounts == "credit_memo")
        ):
            tables[name] = TableSpec(name, id_prefix=ID_PREFIXES[name])
    for name, spec in tables.items():
        if spec.derived and name not in DERIVABLE:
            raise _fail(path, f'[{name}] needs file = "<name or glob>"; it cannot be derived from invoices')
    if tables["payments"].derived and "clearing_date" not in cols:
        raise _fail(
            path,
            "[payments] has no file, so payments are derived from the invoices' clearing date: "
            'map clearing_date = "<column>" under [invoices.columns]',
        )
    if "disputes" in tables and tables["disputes"].derived and "disputed" not in cols:
        raise _fail(path, '[disputes] has no file: map disputed = "<flag column>" under [invoices.columns]')
    invoice_names = set(invoices.features)
    twice = sorted(invoice_names & set(tables["customers"].features))
    if twice:
        raise _fail(
            path, f"feature name(s) {', '.join(twice)} declared under both [invoices.features] and [customers.features]"
        )
    opened = tables.get("disputes", TableSpec("disputes")).options.get("opened", "due_date")
    if opened not in DISPUTE_OPENED:
        raise _fail(path, f"[disputes] opened must be one of {', '.join(DISPUTE_OPENED)}, not {opened!r}")
    wo_date = tables.get("adjustments", TableSpec("adjustments")).options.get("write_off_date", "clearing_date")
    if wo_date not in WRITE_OFF_DATES:
        raise _fail(path, f"[adjustments] write_off_date must be one of {', '.join(WRITE_OFF_DATES)}")
    if invoices.negative_amounts == "credit_memo" and "reference_invoice" not in cols:
        raise _fail(
            path,
            'negative_amounts = "credit_memo" needs the invoice each credit memo reduces: map '
            'reference_invoice = "<column>" under [invoices.columns]',
        )
    for name, spec in tables.items():
        if spec.derived:
            continue
        for column in TABLES[name].required_columns:
            if spec.provides(column) or (column == TABLES[name].key and name in ID_PREFIXES):
                continue
            if (
                name == "invoices"
                and invoices.provides("payment_terms_days")
                and (
                    (column == "due_date" and invoices.provides("invoice_date"))
                    or (column == "invoice_date" and invoices.provides("due_date"))
                )
            ):
                continue
            other = {"due_date": "the invoice date", "invoice_date": "the due date"}.get(column)
            hint = (
                f" (or map payment_terms_days, a column or a default, to derive it from {other})"
                if name == "invoices" and other
                else ""
            )
            raise _fail(
                path,
                f"[{name}] has no source for the required column '{column}': add "
                f'{column} = "<source column>" under [{name}.columns] or a constant under '
                f"[{name}.defaults]{hint}",
            )
