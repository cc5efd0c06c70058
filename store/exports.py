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
from datetime import UTC, date, datetime
from typing import Literal

from store.sqltext import ident

ColumnType = Literal["str", "date", "period", "dec", "int", "bool", "ccy", "ts"]
COLUMN_TYPES: tuple[str, ...] = ("str", "date", "period", "dec", "int", "bool", "ccy", "ts")
DATED_TYPES: tuple[str, ...] = ("date", "period", "ts")  # the types a freshness date can be read from

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
    # An instant: `2026-03-31T23:30:00+02:00` (an offset, or `Z`; none means UTC). Tandem's connections run in UTC
    # (store/db.py `session`), so a timestamp's date and month are those of UTC.
    "ts": "TIMESTAMPTZ",
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


def stamped(col: str, lo: date = MIN_DATE, hi: date = MAX_DATE) -> Rule:
    """A timestamp within the stated range of dates (from the first instant of `lo` to the last of `hi`, UTC)."""
    first = datetime(lo.year, lo.month, lo.day, tzinfo=UTC)
    last = datetime(hi.year, hi.month, hi.day, 23, 59, 59, 999999, tzinfo=UTC)
    return Rule("between", col, (first, last), f"{col} between {lo:%Y-%m-%d} and {hi:%Y-%m-%d}")


# --- rules across rows and files -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """`columns` of a row name a row of export `target` (matched on `target_columns`, by default the same
    names). A row with an empty reference is not checked. `when` (column, value): only rows whose column holds
    that value name a row of `target` (an approval event names a requisition, a PO or an invoice by its
    document_type).

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
    when: tuple[str, str] | None = None

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


@dataclass(frozen=True)
class Ordered:
    """The rows sharing `within` (a document's events) keep `at` in the order of `seq`: a row earlier in time
    than the row before it in `seq` is a data-quality finding (loaded as it is: the KPIs order a document's
    rows by `at`, `seq` breaking ties, so nothing is lost and no duration is negative)."""

    at: str
    seq: str
    within: tuple[str, ...]
    rule: str
    detail: str = ""


AcrossRule = Reference | Consecutive | NeedsRate | Ordered
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
    if t.dated is not None and (t.dated not in names or t.column(t.dated).type not in DATED_TYPES):
        out.append(f"dated must name a date, period or timestamp column, not {t.dated!r}")
    for a in t.across:
        if isinstance(a, Reference):
            target = t if a.target == t.name else known.get(a.target)
            if target is None:
                out.append(f"reference {a.rule!r} names {a.target!r}, which is not declared (declare it first)")
            elif any(c not in names for c in a.columns) or any(c not in target.column_names for c in a.matched) \
                    or len(a.matched) != len(a.columns):
                out.append(f"reference {a.rule!r} must pair columns of {t.name} with as many of {a.target}")
            if a.when is not None and (a.when[0] not in names or a.strict):
                out.append(f"reference {a.rule!r}: `when` must name a column of the export (and is not strict)")
        elif isinstance(a, Consecutive):
            if a.column not in names or t.column(a.column).type != "period" or a.within not in names:
                out.append(f"rule {a.rule!r} needs a period column and a column of the export to group by")
        elif isinstance(a, NeedsRate):
            if a.currency not in names or a.month_of not in names:
                out.append(f"rule {a.rule!r} names a column the export does not have")
        elif isinstance(a, Ordered):
            if any(c not in names for c in (a.at, a.seq, *a.within)) or t.column(a.at).type not in DATED_TYPES:
                out.append(f"rule {a.rule!r} needs a date or timestamp column, a sequence and columns to group by")
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
# Requisitions and their approval flow (docs/budgets.md).
REQUISITION_STATUSES = ("draft", "pending", "approved", "rejected", "ordered", "cancelled")
DOCUMENT_TYPES = ("requisition", "purchase_order", "invoice")
APPROVAL_EVENTS = ("submitted", "approved", "rejected", "returned", "escalated", "delegated", "withdrawn")

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
        "cost_center str, order_date date, quantity dec, unit_price dec, currency ccy, status str, approved_at ts?, "
        "issued_at ts?", ("po_id", "po_line"),
        description="Purchase order lines, with when the order was approved and issued to the supplier when known.",
        rules=(
            above("quantity", 0), at_least("unit_price", 0), one_of("status", PO_STATUSES),
            dated("order_date"), at_most("quantity", MAX_QUANTITY), at_most("unit_price", MAX_MONEY),
            stamped("approved_at"), stamped("issued_at"),
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
    # Requests to buy, before an order: what a budget holder has asked for and where it stands. A line the buyer
    # ordered names its PO line (status `ordered`); from then on the PO line carries it (docs/budgets.md).
    export_type(
        "requisitions", "req_id str, req_line int, requester str, cost_center str, category str, supplier_id str?, "
        "amount dec, currency ccy, status str, submitted_at ts?, approved_at ts?, po_id str?, po_line int?",
        ("req_id", "req_line"),
        description="Purchase requisition lines: who asked, for which budget, how much, and where the request stands.",
        rules=(
            at_least("amount", 0), at_most("amount", MAX_MONEY), one_of("status", REQUISITION_STATUSES),
            given_iff("po_line", "po_id"), not_before("approved_at", "submitted_at"),
            stamped("submitted_at"), stamped("approved_at"),
        ),
        across=(
            Reference(("supplier_id",), "suppliers", "unknown supplier",
                      "requisition lines name a supplier_id missing from suppliers"),
            Reference(("po_id", "po_line"), "purchase_orders", "unknown PO line",
                      "requisition lines name a po_id/po_line missing from purchase_orders"),
            NeedsRate("currency", "submitted_at"),
        ),
        dated="submitted_at", demo="requisitions",
        example={"req_id": "R1", "req_line": "1", "requester": "ana", "cost_center": "CC1", "category": "IT",
                 "supplier_id": "", "amount": "1200", "currency": "EUR", "status": "approved",
                 "submitted_at": "2026-01-05T09:30:00+01:00", "approved_at": "2026-01-06T14:00:00+01:00",
                 "po_id": "", "po_line": ""},
    ),
    # One row per state change of a requisition, a PO or an invoice: who acted, in which role, at which step, when.
    export_type(
        "approval_events", "document_type str, document_id str, seq int, step str?, event str, actor str?, "
        "actor_role str?, on_behalf_of str?, event_at ts, comment str?", ("document_type", "document_id", "seq"),
        description="Approval events: one row per state change of a requisition, purchase order or invoice.",
        rules=(
            one_of("document_type", DOCUMENT_TYPES), one_of("event", APPROVAL_EVENTS), at_least("seq", 1),
            stamped("event_at"),
        ),
        across=(
            Reference(("document_id",), "requisitions", "unknown requisition",
                      "approval events name a requisition missing from requisitions", ("req_id",),
                      when=("document_type", "requisition")),
            Reference(("document_id",), "purchase_orders", "unknown purchase order",
                      "approval events name a purchase order missing from purchase_orders", ("po_id",),
                      when=("document_type", "purchase_order")),
            Reference(("document_id",), "invoices", "unknown invoice",
                      "approval events name an invoice missing from invoices", ("invoice_id",),
                      when=("document_type", "invoice")),
            Ordered("event_at", "seq", ("document_type", "document_id"), "events in time order",
                    "a document's events go back in time as seq rises: its timeline is read in time order"),
        ),
        dated="event_at", demo="approval_events",
        example={"document_type": "requisition", "document_id": "R1", "seq": "1", "step": "manager",
                 "event": "submitted", "actor": "ana", "actor_role": "requester", "on_behalf_of": "",
                 "event_at": "2026-01-05T09:30:00+01:00", "comment": ""},
    ),
    export_type(
        "receipts", "receipt_id str, line int, po_id str, po_line int, receipt_date date, quantity dec",
        ("receipt_id", "line"), description="Goods received against purchase-order lines.",
        rules=(above("quantity", 0), at_most("quantity", MAX_QUANTITY), dated("receipt_date")),
        across=(Reference(("po_id", "po_line"), "purchase_orders", "unknown PO line",
                          "receipt lines name a po_id/po_line missing from purchase_orders"),),
        dated="receipt_date", demo="receipts",
        example={"receipt_id": "G1", "line": "1", "po_id": "P1", "po_line": "1", "receipt_date": "2026-01-20",
                 "quantity": "2"},
    ),
):
    declare(_t)

# The savings ledger (docs/savings-ledger.md): savings initiatives as procurement records them, from a savings
# suite's export or the Savings pipeline page's form. Their stages, finance's bookings and the version history
# of their terms are decisions (decisions/ledger.py); realised savings are computed from invoice lines
# (kpi_definitions/savings_ledger.yaml), never typed.
INITIATIVE_TYPES = ("reduction", "avoidance", "process")
BASELINE_METHODS = ("last_price", "contract", "bid", "index_adjusted")

declare(export_type(
    "savings_initiatives", "initiative_id str, name str, category str, supplier_id str, contract_id str?, item_id str?, "
    "type str, baseline_method str, baseline_price dec, new_price dec, forecast_quantity dec, currency ccy, "
    "window_start date, window_end date, owner str", ("initiative_id",),
    description="Savings initiatives: the deal, its baseline and how it was set, the forecast quantity over the "
                "savings window, and who owns it.",
    rules=(
        one_of("type", INITIATIVE_TYPES),
        one_of("baseline_method", BASELINE_METHODS),
        # A baseline of zero has nothing to save against: every saving would be a price rise.
        above("baseline_price", 0), at_least("new_price", 0), above("forecast_quantity", 0),
        not_before("window_end", "window_start"),
        dated("window_start"), dated("window_end"),
        at_most("baseline_price", MAX_MONEY), at_most("new_price", MAX_MONEY),
        at_most("forecast_quantity", MAX_QUANTITY),
    ),
    # Strict: an initiative on a supplier or contract the loaded master data does not know cannot be measured
    # (its lines are found through them), so it is quarantined under its rule while they are loaded.
    across=(
        Reference(("supplier_id",), "suppliers", "supplier_id a loaded supplier", strict=True),
        Reference(("contract_id", "supplier_id"), "contracts", "contract_id a loaded contract of supplier_id",
                  strict=True),
    ),
    dated="window_start", demo="savings_initiatives",
    example={"initiative_id": "SI1", "name": "IT laptops 2026", "category": "IT", "supplier_id": "S1",
             "contract_id": "C1", "item_id": "", "type": "reduction", "baseline_method": "last_price",
             "baseline_price": "10", "new_price": "9", "forecast_quantity": "1200", "currency": "EUR",
             "window_start": "2026-01-01", "window_end": "2026-12-31", "owner": "buyer@example.com"},
))
