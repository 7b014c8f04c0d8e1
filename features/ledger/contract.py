"""The ledger contract: which tables exist, their columns, and how each column is typed.

This module is the single source of truth for the contract. The loader, the validator, the importer and the
simulator all read it, so the contract cannot drift between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["id", "date", "amount", "number", "text", "currency", "country", "kind"]

DATE_DTYPE = "datetime64[s]"
"""The one date dtype used everywhere inside payrisk (timezone-naive, day precision values)."""

DATE_FORMAT = "%Y-%m-%d"
AMOUNT_TOLERANCE = 0.005
"""Half a cent: two amounts closer than this are equal (settlement is 'to the cent')."""

ADJUSTMENT_KINDS = ("credit_memo", "write_off")


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    required: bool = False
    positive: bool = False  # amounts that must be > 0


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: str | None
    optional: bool = False
    parents: dict[str, str] = field(default_factory=dict)  # column -> parent table (referential integrity)
    checked_after: tuple[str, ...] = ()  # tables whose kept rows this table's cross-table rules read (not parents)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def date_columns(self) -> tuple[str, ...]:
        """The columns of kind 'date' (typed DATE_DTYPE), in contract order."""
        return tuple(c.name for c in self.columns if c.kind == "date")


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            (
                Column("customer_id", "id", required=True),
                Column("name", "text"),
                Column("country", "country"),
                Column("segment", "text"),
                Column("payment_terms_days", "number"),
                Column("credit_limit", "number"),
                Column("currency", "currency"),
                Column("collector_id", "id"),
            ),
            key="customer_id",
        ),
        Table(
            "invoices",
            (
                Column("invoice_id", "id", required=True),
                Column("customer_id", "id", required=True),
                Column("invoice_date", "date", required=True),
                Column("due_date", "date", required=True),
                Column("amount", "amount", required=True, positive=True),
                Column("currency", "currency", required=True),
            ),
            key="invoice_id",
            parents={"customer_id": "customers"},
            checked_after=("fx_rates",),  # fx coverage of the invoice currency
        ),
        Table(
            "payments",
            (
                Column("payment_id", "id", required=True),
                Column("invoice_id", "id", required=True),
                Column("payment_date", "date", required=True),
                Column("amount", "amount", required=True, positive=True),
            ),
            key="payment_id",
            parents={"invoice_id": "invoices"},
            checked_after=("adjustments",),  # credit memos count towards over-payment
        ),
        Table(
            "adjustments",
            (
                Column("adjustment_id", "id", required=True),
                Column("invoice_id", "id", required=True),
                Column("date", "date", required=True),
                Column("amount", "amount", required=True, positive=True),
                Column("kind", "kind", required=True),
            ),
            key="adjustment_id",
            optional=True,
            parents={"invoice_id": "invoices"},
        ),
        Table(
            "disputes",
            (
                Column("dispute_id", "id", required=True),
                Column("invoice_id", "id", required=True),
                Column("opened_date", "date", required=True),
                Column("resolved_date", "date"),
                Column("reason", "text"),
            ),
            key="dispute_id",
            optional=True,
            parents={"invoice_id": "invoices"},
        ),
        Table(
            "promises",
            (
                Column("promise_id", "id", required=True),
                Column("invoice_id", "id", required=True),
                Column("created_date", "date", required=True),
                Column("promised_date", "date", required=True),
                Column("amount", "amount"),
            ),
            key="promise_id",
            optional=True,
            parents={"invoice_id": "invoices"},
        ),
        Table(
            "fx_rates",
            (
                Column("date", "date", required=True),
                Column("currency", "currency", required=True),
                Column("rate_to_base", "amount", required=True, positive=True),
            ),
            key=None,
            optional=True,
        ),
    )
}

REQUIRED_TABLES = [name for name, t in TABLES.items() if not t.optional]

DATE_COLUMNS: dict[str, tuple[str, ...]] = {name: t.date_columns for name, t in TABLES.items()}
"""The date columns of each table (derived from the column kinds): every one is typed DATE_DTYPE."""


def dependency_order(with_checks: bool = False) -> list[str]:
    """The tables, each after the tables it depends on: its parents (foreign keys) and, `with_checks`, the tables
    its validation rules read (`checked_after`). Ties are broken by contract order, so the order is stable.

    Raises ValueError if the dependencies have a cycle.
    """
    needs = {
        name: set(t.parents.values()) | (set(t.checked_after) if with_checks else set()) for name, t in TABLES.items()
    }
    order: list[str] = []
    while len(order) < len(needs):
        ready = next((name for name in TABLES if name not in order and needs[name] <= set(order)), None)
        if ready is None:
            raise ValueError(f"the ledger contract's table dependencies have a cycle among {set(needs) - set(order)}")
        order.append(ready)
    return order


TABLE_ORDER = dependency_order()
"""Parents before children (customers, invoices, their child tables, fx_rates): the order tables are reported in."""
LOAD_ORDER = dependency_order(with_checks=True)
"""Parents and the tables rules read first: the order tables are validated and written to the store in."""
INVOICE_CHILDREN = tuple(name for name, t in TABLES.items() if "invoices" in t.parents.values())
"""The tables whose rows belong to an invoice (payments, adjustments, disputes, promises)."""

# The dated column of each table: the date at which a row becomes visible (the as-of rule).
VISIBLE_FROM = {
    "invoices": "invoice_date",
    "payments": "payment_date",
    "adjustments": "date",
    "disputes": "opened_date",
    "promises": "created_date",
    "fx_rates": "date",
}

# ISO 4217 codes in current use (active codes; funds and precious-metal codes left out).
ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SLL",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XCG",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
        "ZWL",
    ]
)

# ISO 3166-1 alpha-2 country codes.
ISO_3166 = frozenset(
    [
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AO",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CW",
        "CX",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "XK",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
    ]
)
