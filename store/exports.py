"""The contract's export types as data: each one declared once (typed columns, key, row rules, rules across
files, the date its freshness is read from, its demo generator) and collected here, where every layer can
read it. Ingestion enforces the rules (pipelines/), the KPI layer reads the tables, the face shows them;
none of them lists export types of its own. docs/exports.md: how to add one.

The rules here are statements, not code: `between("payment_terms_days", 0, 365)` says what the contract
says; pipelines/schemas.py turns each kind into a check. That keeps this module free of polars and pandera
(the app imports it on every page) and lets a test declare a new export type in a few lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from store.sqltext import ident

ColumnType = Literal["str", "date", "period", "dec", "int", "bool", "ccy"]
COLUMN_TYPES: tuple[str, ...] = ("str", "date", "period", "dec", "int", "bool", "ccy")

# How each contract type is stored in DuckDB. Periods are stored as the first day of the month so that
# KPI SQL can compare them with dates directly; the contract's `YYYY-MM` is the text form.
DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "date": "DATE",
    "period": "DATE",
    "dec": "DOUBLE",
    "int": "BIGINT",
    "bool": "BOOLEAN",
    "ccy": "VARCHAR",
}


@dataclass(frozen=True)
class Col:
    """One column of an export: its canonical name, contract type and whether a row may leave it empty."""

    name: str
    type: ColumnType
    nullable: bool = False


# --- row rules: one row at a time, a failing row is quarantined with the rule's name ----------------------

RuleKind = Literal["between", "at_least", "above", "at_most", "within", "one_of", "not_before", "given_iff"]


@dataclass(frozen=True)
class Rule:
    """A rule on one row, reported against `column` under `name` when it fails. An empty cell passes every
    rule (whether a cell may be empty is the column's `nullable`); `args` depend on the kind:

    between (lo, hi) · at_least (lo,) · above (lo,) · at_most (hi,) · within (bound,): |value| <= bound ·
    one_of (values...) · not_before (other column,) · given_iff (other column,): both empty or both given.
    """

    kind: RuleKind
    column: str
    args: tuple[object, ...]
    name: str

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rule reads."""
        return (self.column, str(self.args[0])) if self.kind in ("not_before", "given_iff") else (self.column,)


def _power(x: float) -> str:
    """1e13 as `1e13`, 365 as `365`."""
    if x < 1e6:
        return f"{x:g}"
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def between(col: str, lo: float, hi: float) -> Rule:
    return Rule("between", col, (lo, hi), f"{col} between {lo:g} and {hi:g}")


def at_least(col: str, lo: float) -> Rule:
    return Rule("at_least", col, (lo,), f"{col} >= {lo:g}")


def above(col: str, lo: float) -> Rule:
    return Rule("above", col, (lo,), f"{col} > {lo:g}")


def at_most(col: str, hi: float) -> Rule:
    """A stated upper bound on a column that has a lower-bound rule of its own (`>= 0`, `> 0`)."""
    return Rule("at_most", col, (hi,), f"{col} at most {_power(hi)}")


def within(col: str, bound: float) -> Rule:
    """A stated range on a signed column (an amount may be negative: a credit note); NaN fails."""
    return Rule("within", col, (bound,), f"{col} within ±{_power(bound)}")


def one_of(col: str, values: tuple[str, ...]) -> Rule:
    return Rule("one_of", col, tuple(values), f"{col} one of {', '.join(values)}")


def not_before(col: str, other: str) -> Rule:
    return Rule("not_before", col, (other,), f"{col} >= {other}")


def given_iff(col: str, other: str) -> Rule:
    return Rule("given_iff", col, (other,), f"{col} given iff {other} given")


# Stated ranges (docs/exports.md): a value outside is quarantined with its rule like any other failure, so
# that no single row can overflow a KPI, a formatter or a JSON document downstream. Money is in the row's
# own currency, so the bound leaves room for currencies with large numbers (IDR, VND, IRR) while a sum of
# millions of rows times the largest rate stays a finite double.
MAX_MONEY = 1e13  # amounts, values, budgets, unit prices and costs: ten trillion in the row's currency
MAX_QUANTITY = 1e12  # quantities and stock
MAX_RATE = 1e6  # rate_to_reporting: > 0 and at most a million
MIN_DATE, MAX_DATE = date(1990, 1, 1), date(2100, 12, 31)  # dates and periods of facts
# Contracts are not facts of a month: an open-ended contract ends 9999-12-31 (the usual ERP convention)
# and a framework agreement may have started long ago.
MIN_CONTRACT_DATE, MAX_CONTRACT_DATE = date(1900, 1, 1), date(9999, 12, 31)


def dated(col: str, period: bool = False, lo: date = MIN_DATE, hi: date = MAX_DATE) -> Rule:
    """A date (or a period's month) within the stated range."""
    shown = f"{lo:%Y-%m} and {hi:%Y-%m}" if period else f"{lo:%Y-%m-%d} and {hi:%Y-%m-%d}"
    return Rule("between", col, (lo, hi), f"{col} between {shown}")


# --- rules across rows and files -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """`columns` of a row name a row of export `target` (matched on `target_columns`, by default the same
    names). A row with an empty reference is not checked.

    Not `strict`: a data-quality finding after each load (exports arrive in any order; the finding says
    so while the target has no rows). `strict`: the row is quarantined under `rule` when the target is
    loaded and holds no such row (a category that follows an index must name a loaded index).
    """

    columns: tuple[str, ...]
    target: str
    rule: str
    detail: str = ""
    target_columns: tuple[str, ...] = ()
    strict: bool = False

    @property
    def matched(self) -> tuple[str, ...]:
        return self.target_columns or self.columns


@dataclass(frozen=True)
class Consecutive:
    """Every month of `column` between a series' first and last, stored and loaded together, is there; a
    series is the rows sharing `within`. A gap is reported on the file's first line of the series."""

    column: str
    within: str
    rule: str


@dataclass(frozen=True)
class NeedsRate:
    """An amount in `currency` dated by `month_of` needs an fx_rates row for that currency and month (a
    data-quality finding when it has none and the currency is not the reporting currency)."""

    currency: str
    month_of: str
    rule: str = "missing FX rate"


AcrossRule = Reference | Consecutive | NeedsRate
DemoFormat = Literal["csv", "xlsx", "parquet"]


def columns(spec: str) -> tuple[Col, ...]:
    """`name type` or `name type?` (may be empty), comma-separated, as the contract's tables write them."""
    out = []
    for part in spec.split(","):
        name, typ = part.split()
        out.append(Col(name, typ.rstrip("?"), typ.endswith("?")))  # type: ignore[arg-type]
    return tuple(out)


@dataclass(frozen=True)
class ExportType:
    """One export type, declared once: what a file of it holds and what a valid row of it is.

    `dated` is the column its freshness is read from (the latest date the data reaches; None: the export
    is not dated, master data). `demo` names this export's frame in the demo writer (workspace/demo.py
    `generate()`; None: the demo has none) and `demo_format` the file it is written as. `example` is one
    valid row as the text a file carries (docs and tests load it).
    """

    name: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    across: tuple[AcrossRule, ...] = ()
    dated: str | None = None
    demo: str | None = None
    demo_format: DemoFormat = "csv"
    description: str = ""
    example: Mapping[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)

    @property
    def references(self) -> tuple[Reference, ...]:
        return tuple(r for r in self.across if isinstance(r, Reference))

    @property
    def cross_row(self) -> bool:
        """Whether a row's validity depends on other rows than its own key's (stored or in the file): such
        an export is always staged (loading it straight into its table cannot check those rules)."""
        return any(isinstance(r, Consecutive) or (isinstance(r, Reference) and r.strict) for r in self.across)

    def ddl(self, table: str | None = None) -> str:
        cols = ", ".join(f"{ident(c.name)} {DUCKDB_TYPES[c.type]}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {ident(table or self.name)} ({cols}, _load_id BIGINT);"


def export_type(name: str, columns_: str | tuple[Col, ...], key: tuple[str, ...], **rest: object) -> ExportType:
    """An ExportType with its columns written as in the contract (`columns("a str, b dec?")`)."""
    cols = columns(columns_) if isinstance(columns_, str) else columns_
    return ExportType(name, cols, key, **rest)  # type: ignore[arg-type]


class DeclarationError(ValueError):
    """A declaration that contradicts itself: the sentence names the export type and what is wrong."""


def problems(t: ExportType, known: Mapping[str, ExportType]) -> list[str]:
    """Every way a declaration contradicts itself or the export types it refers to."""
    out = []
    names = t.column_names
    if not t.name.isidentifier() or t.name != t.name.lower():
        out.append(f"the name {t.name!r} is not a lower-case identifier")
    if len(set(names)) != len(names):
        out.append("a column is named twice")
    bad_types = [f"{c.name} {c.type}" for c in t.columns if c.type not in COLUMN_TYPES]
    if bad_types:
        out.append(f"unknown column type(s) {', '.join(bad_types)}; types are {', '.join(COLUMN_TYPES)}")
    if not t.key or any(k not in names for k in t.key):
        out.append(f"the key ({', '.join(t.key)}) must name columns of the export")
    elif any(t.column(k).nullable for k in t.key):
        out.append("a key column may not be empty (nullable)")
    for r in t.rules:
        missing = [c for c in r.columns if c not in names]
        if missing:
            out.append(f"rule {r.name!r} reads {', '.join(missing)}, not a column of the export")
    if t.dated is not None and (t.dated not in names or t.column(t.dated).type not in ("date", "period")):
        out.append(f"dated must name a date or period column, not {t.dated!r}")
    for a in t.across:
        if isinstance(a, Reference):
            target = t if a.target == t.name else known.get(a.target)
            if target is None:
                out.append(f"reference {a.rule!r} names {a.target!r}, which is not declared (declare it first)")
            elif any(c not in names for c in a.columns) or any(c not in target.column_names for c in a.matched) \
                    or len(a.matched) != len(a.columns):
                out.append(f"reference {a.rule!r} must pair columns of {t.name} with as many of {a.target}")
        elif isinstance(a, Consecutive):
            if a.column not in names or t.column(a.column).type != "period" or a.within not in names:
                out.append(f"rule {a.rule!r} needs a period column and a column of the export to group by")
        elif isinstance(a, NeedsRate):
            if a.currency not in names or a.month_of not in names:
                out.append(f"rule {a.rule!r} names a column the export does not have")
    unknown = [k for k in t.example if k not in names]
    if unknown:
        out.append(f"the example has column(s) {', '.join(unknown)} the export does not")
    return out


# Every declared export type, in the contract's order (an export is declared after those it refers to). The
# face, the store's DDL, ingestion and the KPI layer all read this one dict.
EXPORT_TYPES: dict[str, ExportType] = {}


def declare(t: ExportType) -> ExportType:
    """Add an export type (or replace one of the same name); a DeclarationError says what is wrong."""
    wrong = problems(t, EXPORT_TYPES)
    if wrong:
        raise DeclarationError(f"Export type {t.name!r}: {'; '.join(wrong)}.")
    EXPORT_TYPES[t.name] = t
    return t


@contextmanager
def declared(*types: ExportType) -> Iterator[None]:
    """Export types declared for a while (tests, a plug-in trying one), withdrawn afterwards."""
    before = dict(EXPORT_TYPES)
    try:
        for t in types:
            declare(t)
        yield
    finally:
        EXPORT_TYPES.clear()
        EXPORT_TYPES.update(before)


SAVINGS_TYPES = ("price_reduction", "cost_avoidance")
PO_STATUSES = ("open", "closed", "cancelled")

# The contract's export types. Each is the whole truth about its export: a new one is a declaration here
# (or a `declare(...)` call in a plug-in) plus its tests: docs/exports.md.
for _t in (
    export_type(
        "suppliers", "supplier_id str, supplier_name str, country str?, preferred bool, payment_terms_days int",
        ("supplier_id",), description="The supplier master: names, country, preferred flag and payment terms.",
        rules=(between("payment_terms_days", 0, 365),), demo="suppliers", demo_format="xlsx",
        example={"supplier_id": "S1", "supplier_name": "Acme", "country": "NL", "preferred": "yes",
                 "payment_terms_days": "30"},
    ),
    export_type(
        "contracts", "contract_id str, supplier_id str, category str, item_id str?, start_date date, end_date date, "
        "baseline_unit_price dec, contract_unit_price dec, currency ccy, savings_type str, payment_terms_days int",
        ("contract_id",), description="Negotiated contracts: prices before and after, terms, validity.",
        rules=(
            not_before("end_date", "start_date"),
            at_least("baseline_unit_price", 0),
            at_least("contract_unit_price", 0),
            one_of("savings_type", SAVINGS_TYPES),
            between("payment_terms_days", 0, 365),
            dated("start_date", lo=MIN_CONTRACT_DATE, hi=MAX_CONTRACT_DATE),
            dated("end_date", lo=MIN_CONTRACT_DATE, hi=MAX_CONTRACT_DATE),
            at_most("baseline_unit_price", MAX_MONEY),
            at_most("contract_unit_price", MAX_MONEY),
        ),
        across=(Reference(("supplier_id",), "suppliers", "unknown supplier",
                          "contracts name a supplier_id missing from suppliers"),),
        dated="end_date", demo="contracts",
        example={"contract_id": "C1", "supplier_id": "S1", "category": "IT", "item_id": "",
                 "start_date": "2026-01-01", "end_date": "2026-12-31", "baseline_unit_price": "10",
                 "contract_unit_price": "9", "currency": "EUR", "savings_type": "price_reduction",
                 "payment_terms_days": "60"},
    ),
    export_type(
        "purchase_orders", "po_id str, po_line int, supplier_id str, contract_id str?, item_id str?, category str, "
        "cost_center str, order_date date, quantity dec, unit_price dec, currency ccy, status str", ("po_id", "po_line"),
        description="Purchase order lines.",
        rules=(
            above("quantity", 0), at_least("unit_price", 0), one_of("status", PO_STATUSES),
            dated("order_date"), at_most("quantity", MAX_QUANTITY), at_most("unit_price", MAX_MONEY),
        ),
        across=(
            Reference(("supplier_id",), "suppliers", "unknown supplier",
                      "PO lines name a supplier_id missing from suppliers"),
            Reference(("contract_id",), "contracts", "unknown contract",
                      "PO lines name a contract_id missing from contracts"),
            NeedsRate("currency", "order_date"),
        ),
        dated="order_date", demo="purchase_orders",
        example={"po_id": "P1", "po_line": "1", "supplier_id": "S1", "contract_id": "C1", "item_id": "",
                 "category": "IT", "cost_center": "CC1", "order_date": "2026-01-05", "quantity": "2",
                 "unit_price": "9", "currency": "EUR", "status": "open"},
    ),
    export_type(
        "invoices", "invoice_id str, invoice_line int, supplier_id str, po_id str?, po_line int?, item_id str?, "
        "category str, cost_center str, gl_account str, invoice_date date, due_date date, paid_date date?, "
        "quantity dec?, amount dec, currency ccy", ("invoice_id", "invoice_line"),
        description="Invoice lines, with their PO line when there is one and the day they were paid.",
        rules=(
            not_before("due_date", "invoice_date"),
            given_iff("po_line", "po_id"),
            dated("invoice_date"), dated("due_date"), dated("paid_date"),
            within("quantity", MAX_QUANTITY), within("amount", MAX_MONEY),
        ),
        across=(
            Reference(("supplier_id",), "suppliers", "unknown supplier",
                      "invoice lines name a supplier_id missing from suppliers"),
            Reference(("po_id", "po_line"), "purchase_orders", "unknown PO line",
                      "invoice lines name a po_id/po_line missing from purchase_orders"),
            NeedsRate("currency", "invoice_date"),
        ),
        dated="invoice_date", demo="invoices",
        example={"invoice_id": "I1", "invoice_line": "1", "supplier_id": "S1", "po_id": "P1", "po_line": "1",
                 "item_id": "", "category": "IT", "cost_center": "CC1", "gl_account": "6000",
                 "invoice_date": "2026-01-10", "due_date": "2026-02-09", "paid_date": "", "quantity": "",
                 "amount": "-18.5", "currency": "EUR"},
    ),
    export_type(
        "budgets", "fiscal_period period, cost_center str, category str, budget_amount dec, currency ccy",
        ("fiscal_period", "cost_center", "category"), description="Budget per fiscal month, cost center and category.",
        rules=(at_least("budget_amount", 0), dated("fiscal_period", period=True), at_most("budget_amount", MAX_MONEY)),
        across=(NeedsRate("currency", "fiscal_period"),),
        dated="fiscal_period", demo="budgets",
        example={"fiscal_period": "2026-01", "cost_center": "CC1", "category": "IT", "budget_amount": "1000",
                 "currency": "EUR"},
    ),
    export_type(
        "inventory", "snapshot_date date, item_id str, location str, on_hand_qty dec, safety_stock_qty dec, "
        "unit_cost dec, currency ccy", ("snapshot_date", "item_id", "location"),
        description="Stock on hand per item and location at a snapshot date.",
        rules=(
            at_least("on_hand_qty", 0), at_least("safety_stock_qty", 0), at_least("unit_cost", 0),
            dated("snapshot_date"), at_most("on_hand_qty", MAX_QUANTITY), at_most("safety_stock_qty", MAX_QUANTITY),
            at_most("unit_cost", MAX_MONEY),
        ),
        across=(NeedsRate("currency", "snapshot_date"),),
        dated="snapshot_date", demo="inventory",
        example={"snapshot_date": "2026-01-31", "item_id": "X1", "location": "DC", "on_hand_qty": "5",
                 "safety_stock_qty": "2", "unit_cost": "3.5", "currency": "EUR"},
    ),
    export_type(
        "consumption", "period period, item_id str, location str, quantity dec, value dec, currency ccy",
        ("period", "item_id", "location"), description="What each item consumed per month and location.",
        rules=(
            at_least("quantity", 0), at_least("value", 0), dated("period", period=True),
            at_most("quantity", MAX_QUANTITY), at_most("value", MAX_MONEY),
        ),
        across=(NeedsRate("currency", "period"),),
        dated="period", demo="consumption",
        example={"period": "2026-01", "item_id": "X1", "location": "DC", "quantity": "4", "value": "14",
                 "currency": "EUR"},
    ),
    export_type(
        "fx_rates", "period period, currency ccy, rate_to_reporting dec", ("period", "currency"),
        description="Monthly rate of each currency to the reporting currency.",
        rules=(above("rate_to_reporting", 0), dated("period", period=True), at_most("rate_to_reporting", MAX_RATE)),
        dated="period", demo="fx_rates", demo_format="parquet",
        example={"period": "2026-01", "currency": "USD", "rate_to_reporting": "0.92"},
    ),
    # Market prices: an external price index by month (a producer price index, say), and which index each
    # category of spend follows (the price page compares our index with it).
    export_type(
        "price_indices", "period period, index_name str, value dec", ("period", "index_name"),
        description="An external price index by month (a producer price index, say).",
        # An index level is a positive number (100 at its base).
        rules=(above("value", 0), dated("period", period=True), at_most("value", MAX_RATE)),
        across=(Consecutive("period", "index_name", "months of an index consecutive"),),
        dated="period", demo="price_indices",
        example={"period": "2026-01", "index_name": "PPI-IT", "value": "101.3"},
    ),
    export_type(
        "category_index", "category str, index_name str", ("category",),
        description="Which price index each category of spend follows.",
        across=(Reference(("index_name",), "price_indices", "index_name a loaded price index", strict=True),),
        demo="category_index",
        example={"category": "IT", "index_name": "PPI-IT"},  # needs PPI-IT loaded first
    ),
):
    declare(_t)
