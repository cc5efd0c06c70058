"""`tandem mapping draft`: a starting source mapping from a file's header and a sample of its values.

Every guess is written with a comment saying why, so a person can check it:

- the export type: from the file name, else the type whose column names the header matches most (with a
  bonus for a date and an amount when the type is about money), the runner-up named;
- the encoding (UTF-8; UTF-16 with or without a byte-order mark; else cp1252 or latin-1, said as such),
  the delimiter, the header's line below a preamble (the first line as wide as most of the rows, every
  cell named), a workbook's sheet (`--sheet`, else the first with a header);
- each canonical column: by name (the synonyms below, accents folded), else by content for the dates and
  the money a file is about; a type is guessed from what the values read as: dates by the first format
  that reads them (the others that do too are named), numbers by the loader's own parser
  (pipelines/compile.py `number_sql`, run on the sample in DuckDB: separators, currency symbols and codes,
  a few cells that are not numbers named and, when repeated, read as empty), ids never from a column of
  dates;
- keys: a unique column, a repeating document number with its lines numbered, never a portal's row
  number (1, 2, 3, ...), else a key generated from the row's content;
- columns the contract requires and the file does not have: a derivation where one exists (a due date from
  the supplier's terms, a unit price from a line value, quantity 1 for a register of values), else a
  constant marked TODO.

The YAML is written by a serializer (pipelines/mappings.py `yaml_text`): a header cell holding line breaks
or YAML of its own reads back as the same column name and nothing else.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.archive import DEFAULT_LIMITS, check_workbook
from pipelines.compile import NumberStyle, number_sql
from pipelines.mappings import MAX_PREAMBLE, check_delimiter, yaml_text
from pipelines.read import DELIMITERS, HEAD, _as_text, line_ends_of, sheet_rows, text_codec, utf16_without_bom
from pipelines.schemas import EXPORTS, ExportSpec
from store.errors import USAGE, TandemError

SAMPLE_ROWS = 100_000
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d-%b-%y", "%d-%b-%Y",
                "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%Y%m%d", "%d/%m/%y", "%m/%d/%y", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"]
PERIOD_FORMATS = ["%Y-%m", "%Y%m", "%m/%Y", "%b-%y", "%b %Y", "%B %Y"]

# Names a source column goes by, per canonical column: compared with the header's names reduced to
# letters and digits, lower-cased, accents folded (`Vendor ID` -> `vendorid`). Earlier names are better matches.
SYNONYMS: dict[str, list[str]] = {
    "supplier_id": ["supplierid", "lieferant", "kreditor", "vendorid", "vendorno", "vendornumber", "suppliernumber",
                    "supplierno", "lifnr", "vendorcode", "suppliercode", "vendor", "supplier", "payee", "vendorname",
                    "suppliername"],
    "supplier_name": ["suppliername", "vendorname", "vendor", "supplier", "payee", "name"],
    "country": ["country", "countrycode", "land1"],
    "preferred": ["preferred", "preferredsupplier"],
    "payment_terms_days": ["paymenttermsdays", "paymentterms", "terms", "termsdays", "zbd1t"],
    "contract_id": ["contractid", "contract", "contractno", "contractnumber", "agreement"],
    "invoice_id": ["invoiceid", "beleg", "belegnummer", "rechnungsnummer", "invoiceno", "invoicenumber", "invoice",
                   "docno", "documentno", "documentnumber", "belnr", "transactionnumber", "transno", "voucher"],
    "invoice_line": ["invoiceline", "pos", "position", "lineno", "linenumber", "line", "buzei"],
    "po_id": ["poid", "poso", "pono", "ponumber", "purchaseorder", "purchaseordernumber", "ebeln", "po", "so", "ponumberso"],
    "po_line": ["poline", "polineno", "polinenumber", "ebelp", "orderline"],
    "item_id": ["itemid", "itemcode", "item", "material", "matnr", "sku", "productcode", "product", "itemdescription"],
    "category": ["category", "warengruppe", "productgroup", "accountdescription", "expensetype", "commodity", "matkl",
                 "expenditurecategory", "description", "expensedescription"],
    "cost_center": ["costcenter", "kostenstelle", "costcentre", "kostl", "department", "directorate", "businessunit",
                    "servicelabel", "servicearea", "service"],
    "gl_account": ["glaccount", "sachkonto", "accountcode", "account", "hkont", "glcode", "expensecode",
                   "expenditurecode", "nominal"],
    "invoice_date": ["invoicedate", "rechnungsdatum", "belegdatum", "documentdate", "bldat", "postingdate", "date",
                     "transactiondate", "paymentdate", "checkdate"],
    "due_date": ["duedate", "faellig", "faelligkeit", "netduedate", "netdt", "paymentduedate"],
    "paid_date": ["paiddate", "datepaid", "clearingdate", "augdt", "paymentdate", "checkdate"],
    "order_date": ["orderdate", "ordered", "ordereddate", "podate", "createddate", "pocreatedate", "documentdate",
                   "bedat", "date"],
    "quantity": ["quantity", "menge", "qty", "linequantity", "lineitemquantity", "units"],
    "unit_price": ["unitprice", "netprice", "price", "priceperunit", "netpr", "packprice", "unitcost"],
    "amount": ["amount", "betrag", "netamount", "linevalue", "lineitemvalue", "value", "wrbtr", "total", "checkamount",
               "paymentamount", "invoiceamount", "amountpaid"],
    "currency": ["currency", "waehrung", "currencycode", "curr", "ccy", "waers"],
    "status": ["status", "postatus", "linestatus"],
    "start_date": ["startdate", "validfrom", "begindate"],
    "end_date": ["enddate", "validto", "expirydate"],
    "baseline_unit_price": ["baselineunitprice", "baselineprice", "listprice"],
    "contract_unit_price": ["contractunitprice", "contractprice", "agreedprice"],
    "savings_type": ["savingstype"],
    "fiscal_period": ["fiscalperiod", "period", "month"],
    "budget_amount": ["budgetamount", "budget"],
    "snapshot_date": ["snapshotdate", "date", "stockdate"],
    "location": ["location", "warehouse", "plant", "werks", "site", "store"],
    "on_hand_qty": ["onhandqty", "onhand", "stock", "quantity", "qty"],
    "safety_stock_qty": ["safetystockqty", "safetystock"],
    "unit_cost": ["unitcost", "cost", "price"],
    "period": ["period", "month", "fiscalperiod"],
    "value": ["value", "amount", "consumptionvalue"],
    "rate_to_reporting": ["ratetoreporting", "rate", "fxrate", "exchangerate"],
}
# Brazilian names (NF-e registers, ERP exports in Portuguese), each ranked right after the column's own name.
PORTUGUESE: dict[str, list[str]] = {
    "supplier_id": ["cpfcnpjemitente", "cnpjemitente", "fornecedor"],
    "supplier_name": ["razaosocialemitente", "razaosocial"],
    "invoice_id": ["chavedeacesso"],
    "invoice_line": ["numeroproduto", "nitem"],
    "category": ["categoria", "ncmshtipodeproduto"],
    "cost_center": ["centrodecusto", "nomedestinatario"],
    "invoice_date": ["dataemissao", "datadeemissao"],
    "due_date": ["datavencimento", "vencimento"],
    "quantity": ["quantidade", "qtde"],
    "unit_price": ["valorunitario", "precounitario"],
    "amount": ["valortotal"],
}
for _col, _names in PORTUGUESE.items():
    SYNONYMS[_col][1:1] = _names
# Canonical columns matched by content when no name matches: required dates, and the money a file is about.
CONTENT_MATCHES = {"invoice_date", "order_date", "snapshot_date", "start_date", "end_date", "amount", "budget_amount",
                   "value"}
# A constant for a required column the file does not have, with what the person should check.
CONSTANTS: dict[str, tuple[str, str]] = {
    "invoice_line": ("1", "one line per invoice: check that the invoice column is unique"),
    "po_line": ("1", "one line per PO: check that the PO column is unique"),
    "preferred": ("no", "the file does not say which suppliers are preferred"),
    "payment_terms_days": ("30", "TODO: the file has no payment terms; 30 is a placeholder"),
    "status": ("closed", "TODO: the file has no status; every line is taken as closed"),
    "savings_type": ("price_reduction", "TODO: the file has no savings type"),
    "currency": ("EUR", "TODO: the file names no currency: set the currency of its amounts"),
}


# Texts that stand for "no value" in exports, proposed as `empty:` for the whole mapping when a file has them.
PLACEHOLDERS = ("#N/A", "N/A", "n/a", "NA", "NULL", "null", "-", "--", "#VALUE!", "Date Not Captured",
                "N/A - From RDC")


CURRENCIES = {"EUR", "USD", "GBP", "CHF", "JPY", "CNY", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "CAD", "AUD",
              "NZD", "INR", "ZAR", "BRL", "MXN", "SGD", "HKD", "KRW", "TRY", "AED", "SAR", "ILS", "THB", "KES", "NGN"}


def _key(name: str) -> str:
    """Letters and digits, lower-cased, accents folded (`DATA EMISSÃO` -> `dataemissao`)."""
    folded = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", folded)



# --- the sample: what the file is, and its first rows as text --------------------------------------------

SAMPLE_BYTES = 32 << 20  # read at most this much of a CSV for the sample


@dataclass
class Sample:
    """The first rows of a file as text (cells trimmed, empty ones null, the file's own column names) and what
    reading found out, each with the sentence the draft writes for it."""

    df: pl.DataFrame
    path: Path
    fmt: str
    encoding: str = "utf-8"
    delimiter: str | None = None
    header_line: int = 1
    sheet: str | None = None
    notes: dict[str, str] = field(default_factory=dict)  # setting -> why (encoding, header_row, sheet)


def _encoding(path: Path, data: bytes, given: str | None) -> tuple[str, str]:
    """The text encoding of a CSV's first bytes, and why (empty for plain UTF-8)."""
    if given:
        text_codec(given)
        return given, f"the encoding given ({given})"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "the file is UTF-16 text (it starts with a byte-order mark)"
    wide = utf16_without_bom(data[:HEAD])
    if wide:
        return wide, f"the file is {wide.upper()} text without a byte-order mark (every other byte is NUL)"
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(data)  # a cut last character is fine
        return "utf-8", ""
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex().upper()
    for enc in ("cp1252", "latin-1"):
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc, (f"the file is not UTF-8 (line {line} has the byte 0x{bad}); read as {enc}, the usual encoding "
                     f"of Windows exports: check its accented letters (else try another, e.g. --encoding latin-1)")
    raise TandemError(f"{path.name}: line {line} is not UTF-8 (byte 0x{bad}); pass --encoding.", USAGE)


def _width(row: list[str]) -> int:
    """The cells of a row up to its last non-empty one."""
    n = len(row)
    while n and not row[n - 1].strip():
        n -= 1
    return n


def header_row(rows: list[list[str]]) -> int:
    """The row a header is on (1-based): the first as wide as most of the rows below it whose every cell is
    named and not a number. A title or an export date above it is narrower (a preamble)."""
    widths = [_width(r) for r in rows]
    if len(rows) < 2:
        return 1
    common = Counter(w for w in widths[1:] if w >= 2).most_common(1)
    if not common:
        return 1
    wide = common[0][0]
    for n, (row, w) in enumerate(zip(rows, widths, strict=True), start=1):
        cells = [c.strip() for c in row[:w]]
        if w >= wide and all(cells) and len(set(cells)) == len(cells) \
                and not any(re.fullmatch(r"[-+]?[\d.,]+", c) for c in cells):
            return n
    return 1


def _csv_sample(path: Path, delimiter: str | None, encoding: str | None) -> Sample:
    with path.open("rb") as fh:
        data = fh.read(SAMPLE_BYTES)
    enc, why = _encoding(path, data, encoding)
    text = codecs.decode(data, text_codec(enc).name, errors="replace").removeprefix("\ufeff")
    if len(data) == SAMPLE_BYTES:
        text = text[: text.rfind("\n") + 1]  # the last line may be cut
    ends = "lf" if "16" in enc else line_ends_of(data[:HEAD])
    if ends in ("cr", "mixed"):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n", MAX_PREAMBLE + 1)[: MAX_PREAMBLE + 1]
    sep = check_delimiter(delimiter) or max(DELIMITERS, key=lambda d: sum(ln.count(d) for ln in lines[:20]))
    rows = [next(csv.reader([ln], delimiter=sep), []) for ln in lines if ln.strip() or ln is lines[0]]
    at = header_row(rows)
    body = text.split("\n", at - 1)[-1] if at > 1 else text
    # the header as a row of its own: polars keeps a quoted name's doubled quotes (`""q""`) in a header
    raw = pl.read_csv(io.BytesIO(body.encode("utf-8")), separator=sep, infer_schema=False, n_rows=SAMPLE_ROWS + 1,
                      truncate_ragged_lines=True, has_header=False)
    names = _unique(["" if v is None else str(v) for v in raw.row(0)]) if raw.height else []
    df = raw.slice(1).rename(dict(zip(raw.columns, names, strict=True)))
    notes = {"encoding": why} if enc != "utf-8" else {}
    if at > 1:
        notes["header_row"] = (f"the header is on line {at}: the line(s) above it are a preamble "
                               f"({_shown(lines[0])}) and are skipped")
    return Sample(_trimmed(df), path, "csv", enc, sep, at, notes=notes)


def _unique(names: list[str]) -> list[str]:
    """Column names as a frame needs them: a blank or repeated one numbered (the load refuses those anyway)."""
    seen: Counter[str] = Counter()
    out = []
    for i, n in enumerate(names, start=1):
        seen[n] += 1
        out.append(n if n and seen[n] == 1 else f"{n or 'column'}_{i}")
    return out


def _shown(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _xlsx_sample(path: Path, sheet: str | None) -> Sample:
    import fastexcel

    check_workbook(path, DEFAULT_LIMITS)  # inflated and counted before calamine reads anything
    try:
        names = fastexcel.read_excel(path).sheet_names
    except Exception as exc:  # calamine's errors carry no stable type
        raise TandemError(f"{path.name}: not a readable XLSX workbook ({str(exc).splitlines()[0]}).") from None
    if sheet is not None and sheet not in names:
        raise TandemError(f"{path.name}: the workbook has no sheet {sheet!r}; its sheets are {', '.join(names)}.",
                          USAGE)
    notes: dict[str, str] = {}
    for name in [sheet] if sheet else names:
        rows = sheet_rows(path, name, MAX_PREAMBLE + 1)
        if sum(1 for r in rows if _width(r) >= 2) >= 2:  # a header and a row at least
            break
    else:
        raise TandemError(f"{path.name}: no sheet of the workbook has a header and rows; name one with --sheet.",
                          USAGE)
    if sheet is None and name != names[0]:
        notes["sheet"] = f"the first sheet with a header and rows (the workbook has {', '.join(names)})"
    elif len(names) > 1:
        notes["sheet"] = f"the workbook also has {', '.join(n for n in names if n != name)}"
    at = header_row(rows)
    if at > 1:
        notes["header_row"] = f"the header is on row {at}: the rows above it are a preamble ({_shown(' '.join(rows[0]))})"
    try:
        df = pl.read_excel(path, sheet_name=name, infer_schema_length=None, read_options={"header_row": at - 1})
    except Exception as exc:
        raise TandemError(f"{path.name}: not a readable XLSX workbook ({str(exc).splitlines()[0]}).") from None
    return Sample(_trimmed(_as_text(df.head(SAMPLE_ROWS))), path, "xlsx", header_line=at, sheet=name, notes=notes)


def _trimmed(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in df.columns)


def sample(path: Path, delimiter: str | None = None, encoding: str | None = None, sheet: str | None = None) -> Sample:
    """The first rows of a CSV file or a workbook's sheet as text, and what reading them found out."""
    if not path.is_file():
        raise TandemError(f"{path}: no such file.", USAGE)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_sample(path, sheet)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise TandemError(f"{path.name}: a draft is made from a CSV file or an XLSX workbook.", USAGE)
    return _csv_sample(path, delimiter, encoding)


# --- what the values read as ------------------------------------------------------------------------------


def _date_format(values: list[str], formats: list[str]) -> tuple[str | None, list[str], list[str]]:
    """The first format that reads every value but the placeholders, the other formats that do too, and
    the placeholder texts (repeated values no format reads, under half the values)."""
    best: tuple[str | None, list[str], list[str]] = (None, [], [])
    distinct = list(dict.fromkeys(values))[:500]
    for fmt in formats:
        bad = []
        for v in distinct:
            try:
                datetime.strptime(v, fmt)
            except ValueError:
                bad.append(v)
        if len(bad) <= max(3, len(distinct) // 20) and len(bad) < len(distinct):
            bad_rows = sum(1 for v in values if v in set(bad))
            if bad_rows * 2 >= len(values):
                continue
            if best[0] is None:
                best = (fmt, [], bad)
            elif not bad:
                best[1].append(fmt)
    return best


def _is_dates(values: list[str]) -> bool:
    return bool(values) and _date_format(values, DATE_FORMATS)[0] is not None


NUMBERISH = re.compile(r"[-+]?\(?[-+]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*\)?")
MARK = r"[^\d\s.,()+\-'\u00a0\u202f]{1,4}"  # a currency mark: `$`, `€`, `R$`, `kr`, `CAD`
LEAD, TAIL = re.compile(rf"^\s*[-+]?\(?\s*({MARK})"), re.compile(rf"({MARK})\s*\)?\s*$")
# (decimal, thousands) in the order tried when the values do not tell: '.' decimals first
SEPARATORS = [(".", ""), (".", ","), (",", ""), (",", "."), (",", " "), (".", " "), (",", "\u00a0"), (".", "'")]
MOSTLY = 0.98  # a column is numbers when at least this share of its cells read as numbers


@dataclass
class NumberFit:
    style: NumberStyle
    cells: int  # non-empty cells
    bad: Counter[str]  # cells that do not read as numbers, by text
    decimals: bool  # some value has a fraction (an amount, not a count or a code)


class Numbers:
    """The loader's number parser (compile.number_sql) run on sample values in DuckDB: what the draft
    proposes reads the cells exactly as the load will."""

    def __init__(self) -> None:
        self.con = duckdb.connect()

    def read(self, values: list[str], style: NumberStyle) -> list[float | None]:
        self.con.register("_v", pl.DataFrame({"v": values}, schema={"v": pl.String}))
        try:
            return [r[0] for r in self.con.execute(f"SELECT {number_sql('v', style)} FROM _v").fetchall()]
        finally:
            self.con.unregister("_v")

    def fit(self, values: list[str]) -> NumberFit | None:
        """The style that reads the most of `values` as numbers, if that is most of them."""
        if not values:
            return None
        counts = Counter(values)
        distinct = list(counts)  # every distinct value: DuckDB reads 100,000 in milliseconds
        if sum(counts[v] for v in distinct if NUMBERISH.fullmatch(_unmarked(v))) < MOSTLY * sum(counts[v] for v in
                                                                                                   distinct):
            return None
        marks = Counter(m.group(1) for v in distinct if NUMBERISH.fullmatch(_unmarked(v))
                        for m in (LEAD.match(v), TAIL.search(v)) if m)
        codes = {m for m in marks if re.fullmatch(r"[A-Z]{3}", m)}
        symbols = tuple(sorted(m for m in marks if m not in codes and not m.isalpha()) +
                        sorted(m for m in marks if m not in codes and m.isalpha()))
        best: tuple[int, NumberFit] | None = None
        for dec, thou in _separators(distinct):
            style = NumberStyle(dec, thou, symbols, bool(codes))
            got = self.read(distinct, style)
            ok = sum(counts[v] for v, x in zip(distinct, got, strict=True) if x is not None)
            if best is None or ok > best[0]:
                bad = Counter({v: counts[v] for v, x in zip(distinct, got, strict=True) if x is None})
                decimals = any(x is not None and x != round(x) for x in got)
                best = (ok, NumberFit(style, sum(counts[v] for v in distinct), bad, decimals))
            if ok == sum(counts[v] for v in distinct):
                break
        assert best is not None
        return best[1] if best[0] >= MOSTLY * best[1].cells else None


def _unmarked(v: str) -> str:
    """A cell without one currency mark before and one after its number (for telling numbers from text)."""
    v = LEAD.sub(lambda m: m.group(0).replace(m.group(1), ""), v, count=1)
    return TAIL.sub(lambda m: m.group(0).replace(m.group(1), ""), v, count=1).strip()


def _separators(values: list[str]) -> list[tuple[str, str]]:
    """The separator pairs to try, the ones the values point at first: `1,234.5` is '.' decimals with ','
    thousands, `1.234,5` the other way round; a lone ',' followed by three digits in every value reads
    as thousands (`1,500`), else as a decimal comma (`12,5`, `,5`)."""
    text = "\n".join(values[:2000])
    first: list[tuple[str, str]] = []
    if re.search(r"\d,\d{3}\.\d", text):
        first.append((".", ","))
    if re.search(r"\d\.\d{3},\d", text):
        first.append((",", "."))
    if "," in text and "." not in text:
        commas = re.findall(r",(\d*)", text)
        first.append((".", ",") if all(len(c) == 3 for c in commas) else (",", ""))
    if re.search(r"\d[ \u00a0]\d{3}(?!\d)", text):
        first += [(",", " "), (".", " "), (",", "\u00a0")]
    return list(dict.fromkeys([*first, *SEPARATORS]))


def _row_numbers(values: list[str]) -> bool:
    """1, 2, 3, ... in file order, or any even step (a portal's or a spreadsheet's row number, or every n-th
    of them): it numbers the rows of one export, not the documents."""
    if len(values) < 3 or not all(v.isdigit() for v in values):
        return False
    nums = [int(v) for v in values]
    step = nums[1] - nums[0]
    return step > 0 and all(b - a == step for a, b in zip(nums, nums[1:], strict=False))


@dataclass
class Guess:
    source: list[str] | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # setting -> value, as the mapping holds it
    why: list[str] = field(default_factory=list)


def guess_type(path: Path, df: pl.DataFrame) -> tuple[str, str]:
    """The export type, and why: the file name's start, else the column names (and content) it matches."""
    stem = path.name.lower()
    for name in sorted(EXPORTS, key=len, reverse=True):
        if stem.startswith(name):
            return name, f"the file name starts with {name}"
    names = {_key(c): c for c in df.columns}
    values = {c: df[c].drop_nulls().head(2000).to_list() for c in df.columns}
    dated = any(_is_dates(v) for v in values.values())
    numbers = Numbers()
    money = any((fit := numbers.fit(v)) is not None and fit.decimals for v in values.values())

    def score(spec: ExportSpec) -> tuple[int, float, list[str]]:
        """Distinct source columns the export's columns match by name (+1 for a date and +1 for an amount
        in a type that needs them), then the share of its required columns matched."""
        hits = [set(SYNONYMS.get(c.name, [c.name.replace("_", "")])) & set(names) for c in spec.columns]
        required = [h for h, c in zip(hits, spec.columns, strict=True) if not c.nullable]
        needs = {c.type for c in spec.columns if not c.nullable}
        bonus = int(dated and "date" in needs) + int(money and "dec" in needs)
        matched = sorted({names[h] for hs in hits for h in hs})
        return len(matched) + bonus, sum(1 for h in required if h) / max(1, len(required)), matched

    ranked = sorted(EXPORTS, key=lambda t: score(EXPORTS[t])[:2], reverse=True)
    best, runner = ranked[0], ranked[1] if len(ranked) > 1 else None
    n, _, matched = score(EXPORTS[best])
    why = (f"{best}: {len(matched)} column name(s) match its columns ({', '.join(matched) or 'none'})"
           + (", with dates and amounts" if dated and money else ", with dates" if dated else
              ", with amounts" if money else ""))
    if runner is not None:
        why += f"; next {runner} ({score(EXPORTS[runner])[0]}); pass --type to choose another"
    return best, why


# --- the draft ---------------------------------------------------------------------------------------------


def draft(path: Path, export_type: str | None = None, delimiter: str | None = None, encoding: str | None = None,
          sheet: str | None = None) -> str:
    """The YAML text of a starting mapping for `path` (a CSV file or an XLSX workbook), every guess commented."""
    s = sample(path, delimiter, encoding, sheet)
    df = s.df
    if export_type is not None and export_type not in EXPORTS:
        raise TandemError(f"Unknown export type {export_type!r}; expected one of {', '.join(EXPORTS)}.", USAGE)
    etype, type_why = (export_type, "given (--type)") if export_type else guess_type(path, df)
    spec = EXPORTS[etype]
    found = [p for p in PLACEHOLDERS if any(p in set(df[c].drop_nulls().unique().to_list()) for c in df.columns)]
    values = {c: [v for v in df[c].to_list() if v is not None and v not in found] for c in df.columns}
    ctx = _Context(df.columns, values, df.height, Numbers())
    guesses: dict[str, Guess] = {}
    for col in spec.columns:
        guesses[col.name] = _match(col.name, col.type, ctx)
        g = guesses[col.name]
        if g.source and not col.nullable and col.type == "str" and all(len(values[c]) < df.height for c in g.source):
            g.settings["default"] = "Unclassified" if col.name == "category" else "UNKNOWN"
            g.why.append("empty on some rows: a default")
    _keys(spec, guesses, ctx)
    _derived(spec, guesses, ctx)
    data: dict[str, Any] = {"name": path.stem.lower(), "description": "drafted from " + path.name}
    comments: dict[tuple[str, ...], list[str]] = {}
    if s.encoding != "utf-8":
        data["encoding"] = s.encoding
        comments[("encoding",)] = [s.notes.get("encoding", "")]
    if s.delimiter not in (None, ","):
        data["delimiter"] = s.delimiter
    if s.header_line > 1:
        data["header_row"] = s.header_line
        comments[("header_row",)] = [s.notes["header_row"]]
    if s.sheet is not None:
        data["sheet"] = s.sheet
        if "sheet" in s.notes:
            comments[("sheet",)] = [s.notes["sheet"]]
    if found:
        data["empty"] = found
        comments[("empty",)] = ["Placeholder texts in the sample, read as empty cells everywhere:"]
    columns: dict[str, dict[str, Any]] = {}
    unmapped: list[str] = []
    for col in spec.columns:
        g = guesses[col.name]
        if g.source is None and not g.settings:
            unmapped.append(f"{col.name}: {g.why[0] if g.why else 'no column found'}"
                            + ("" if g.why and "left empty" in g.why[0] else " (it may be empty)"))
            continue
        columns[col.name] = ({"from": g.source[0] if len(g.source) == 1 else g.source} if g.source else {}) | g.settings
        comments[("exports", etype, "columns", col.name)] = [f"{col.name}: {w}" for w in g.why]
    data["exports"] = {etype: {"columns": columns}}
    comments[("exports", etype)] = [f"Export type {type_why}."]
    if unmapped:
        comments[("exports", etype, "columns")] = ["Not mapped:", *unmapped]
    where = f"sheet {s.sheet!r}, " if s.sheet else ""
    head = [f"Drafted by `tandem mapping draft` from {path.name} ({where}{df.height:,} sample rows"
            + (f", delimiter {s.delimiter!r}" if s.delimiter else "") + "). Check every guess, then try it with "
            "`tandem mapping check`.", f"Columns: {', '.join(df.columns)}"]
    constants = [c for c in df.columns if len(set(values[c])) == 1 and len(values[c]) == df.height]
    if constants:
        head.append(f"Constant in the sample: {', '.join(f'{c} = {values[c][0]!r}' for c in constants)}")
    unused = [c for c in df.columns if c not in ctx.used]
    if unused:
        head.append(f"Not used: {', '.join(unused)}")
    return yaml_text(data, comments, head)


@dataclass
class _Context:
    """The sample's columns, their non-placeholder values, its rows, the number reader and the columns used."""

    columns: list[str]
    values: dict[str, list[str]]
    rows: int
    numbers: Numbers
    used: set[str] = field(default_factory=set)
    fits: dict[str, NumberFit | None] = field(default_factory=dict)

    def number_fit(self, column: str) -> NumberFit | None:
        if column not in self.fits:
            self.fits[column] = self.numbers.fit(self.values[column])
        return self.fits[column]


def _derived(spec: ExportSpec, guesses: dict[str, Guess], ctx: _Context) -> None:
    """Columns the file does not have, derived where the contract allows, else constants marked TODO."""
    paid, invoiced = guesses.get("paid_date"), guesses.get("invoice_date")
    if paid is not None and invoiced is not None and paid.source and paid.source == invoiced.source:
        guesses["paid_date"] = Guess(why=[f"{paid.source[0]} is already the invoice date: left empty (the same "
                                          f"column for both would make every payment take 0 days)"])
    price, qty = guesses.get("unit_price"), guesses.get("quantity")
    if price is not None and price.source is None and qty is not None:
        total = _match("amount", "dec", ctx)
        if total.source and qty.source:
            a, q = total.source[0], qty.source[0]
            price.settings = {"expr": f"{_name(a)} / {_name(q)}"}
            price.why = [f"no unit price: the line value {a} divided by the quantity {q}"]
            if any(k in total.settings for k in ("decimal_separator", "thousands_separator", "currency_symbols",
                                                 "currency_codes")):
                price.settings |= {k: v for k, v in total.settings.items() if k != "empty"}
        elif total.source and not spec.column("quantity").nullable:
            # a register of line values (a contracts or payments register): each line is 1 × its value
            qty.settings, qty.why = {"value": "1"}, ["no quantity in the file: each line taken as 1 unit of its "
                                                     "value (check: a line may be several units)"]
            price.source, price.settings = total.source, dict(total.settings)
            price.why = [f"no unit price: the line value {total.source[0]} as the price of its 1 unit",
                         *total.why[1:]]
    for col in spec.columns:
        g = guesses[col.name]
        if g.source is not None or g.settings or col.nullable:
            continue
        invoiced = guesses.get("invoice_date")
        if (spec.name, col.name) == ("invoices", "due_date") and invoiced is not None and invoiced.source:
            # derived by the contract's rule, not taken from the invoice date (that makes every invoice due
            # the day it is issued): the supplier master's terms, 30 days for a supplier it does not hold
            g.settings = {"after_supplier_terms": invoiced.source[0],
                          **{k: v for k, v in invoiced.settings.items() if k == "date_format"},
                          "terms_if_unknown": 30}
            g.why = ["no due date in the file: the invoice date + the supplier's payment terms from the supplier "
                     "master (load it first); TODO: check the 30 days used for suppliers it does not hold"]
            continue
        if col.type in ("date", "period"):
            dates = [n for n, x in guesses.items() if x.source and spec.column(n).type == col.type]
            if dates:
                g.settings, g.source = dict(guesses[dates[0]].settings), guesses[dates[0]].source
                g.why = [f"TODO: no column for {col.name}; {dates[0]}'s column taken (check: it can make durations 0)"]
                continue
        if col.type == "ccy":
            code = _code_of_amounts(spec, guesses, ctx)
            if code is not None:
                g.settings, g.why = {"value": code[0]}, [code[1]]
                continue
        value, why = CONSTANTS.get(col.name, ("UNKNOWN", f"TODO: no column found for {col.name}"))
        g.settings, g.why = {"value": value}, [why]


def _code_of_amounts(spec: ExportSpec, guesses: dict[str, Guess], ctx: _Context) -> tuple[str, str] | None:
    """The currency the file's money cells name, when they carry a code and no column says it."""
    codes: Counter[str] = Counter()
    for col in spec.columns:
        g = guesses[col.name]
        if col.type == "dec" and g.source and g.settings.get("currency_codes"):
            codes.update(m.group(1) for v in ctx.values[g.source[0]] for m in (LEAD.match(v), TAIL.search(v))
                         if m and re.fullmatch(r"[A-Z]{3}", m.group(1)))
    if not codes:
        return None
    (code, n), *others = codes.most_common()
    why = f"the amounts carry the code {code}" + (
        f" ({n:,} cell(s); others name {', '.join(c for c, _ in others)}: those rows are quarantined unless a column "
        "gives each row's currency)" if others else "")
    return code, why


def _name(column: str) -> str:
    """A column name as an expression names it: bare, or in double quotes."""
    return column if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column) and '"' not in column else \
        '"' + column.replace('"', "") + '"'


def _match(name: str, ctype: str, ctx: _Context) -> Guess:
    syn = SYNONYMS.get(name, [_key(name)])
    ranked: list[tuple[int, str, str]] = []
    for c in ctx.columns:
        k = _key(c)
        if k in syn:
            ranked.append((100 - syn.index(k), c, f"the name matches ({c})"))
        else:
            part = [s for s in syn if len(s) >= 4 and s in k]
            if part:
                ranked.append((50 - syn.index(part[0]), c, f"the name resembles {part[0]!r}"))
    ranked.sort(key=lambda r: -r[0])
    for _, c, why in ranked:
        if c in ctx.used and ctype != "date":
            continue
        if ctype == "str" and name.endswith("_id") and _is_dates(ctx.values[c]):
            continue  # `Contract Date` is no contract id
        g = _fits(ctype, ctx.values[c], ctx, c)
        if g is None:
            continue
        g.source, g.why = [c], [why, *g.why]
        ctx.used.add(c)
        if len(ctx.values[c]) < ctx.rows and ctype in ("str", "date"):  # empty on some rows: a fallback column
            for score, other, _ in ranked:
                if score > 50 and other != c and other not in ctx.used and ctx.values[other] and (
                        ctype == "str" or _fits(ctype, ctx.values[other], ctx, other) is not None):
                    g.source.append(other)
                    g.why.append(f"{c} is empty on {ctx.rows - len(ctx.values[c]):,} sample rows: {other} where it is")
                    ctx.used.add(other)
                    break
        return g
    if name in CONTENT_MATCHES:  # by content: the first unused column that fits
        for c in ctx.columns:
            if c in ctx.used or not ctx.values[c]:
                continue
            if ctype == "dec" and not ((fit := ctx.number_fit(c)) and fit.decimals):
                continue  # an amount has decimals somewhere: codes and counts do not
            g = _fits(ctype, ctx.values[c], ctx, c)
            if g is not None:
                ctx.used.add(c)
                g.source, g.why = [c], [f"by content: {c} holds {'dates' if ctype == 'date' else 'amounts'}", *g.why]
                return g
    if ctype == "ccy":  # by content: a column of currency codes
        for c in ctx.columns:
            if c not in ctx.used and ctx.values[c] and set(ctx.values[c]) <= CURRENCIES:
                ctx.used.add(c)
                return Guess([c], why=[f"{c} holds currency codes"])
    return Guess()


def _fits(ctype: str, vals: list[str], ctx: _Context, column: str) -> Guess | None:
    """The settings that read a column's sample values as `ctype` (None when they do not), each explained."""
    g = Guess()
    if not vals:
        g.why.append("empty in the sample")
        return g
    if ctype in ("date", "period"):
        fmt, also, placeholders = _date_format(vals, DATE_FORMATS if ctype == "date" else PERIOD_FORMATS + DATE_FORMATS)
        if fmt is None:
            return None
        if fmt != "%Y-%m-%d" or ctype == "period":
            g.settings["date_format"] = fmt
        g.why.append(f"dates as {fmt}, which reads every sample value" + (
            f" (also fits {', '.join(also)}: check the order of day and month)" if also else ""))
        if placeholders:
            g.settings["empty"] = placeholders
            g.why.append(f"placeholder text read as empty: {', '.join(placeholders)}")
    elif ctype in ("dec", "int"):
        fit = ctx.number_fit(column)
        if fit is None:
            return None
        style = fit.style
        said = []
        if style.decimal != ".":
            g.settings["decimal_separator"] = style.decimal
            said.append("a decimal comma")
        if style.thousands:
            g.settings["thousands_separator"] = style.thousands
            said.append(f"thousands separated by {style.thousands!r}")
        if style.symbols:
            g.settings["currency_symbols"] = list(style.symbols)
            said.append(f"currency symbols {', '.join(style.symbols)} around the numbers")
        if style.codes:
            g.settings["currency_codes"] = True
            said.append("currency codes around the numbers (checked against each row's currency)")
        g.why.append("numbers" + (" with " + ", ".join(said) if said else "") + ", read by the loader's own parser")
        if fit.bad:
            n = sum(fit.bad.values())
            # words for "no value" (`None`, `n.a.`, a repeated word): read as empty; an error (`#REF!`) is not
            words = [v for v, k in fit.bad.items() if v in PLACEHOLDERS or v.lower() in NO_VALUE
                     or (k > 1 and re.fullmatch(r"[A-Za-z][A-Za-z ./-]*", v))]
            shown = ", ".join(f"{v!r} ×{k}" for v, k in fit.bad.most_common(4))
            g.why.append(f"{n:,} of {fit.cells:,} sample cells are not numbers ({shown})" + (
                f": {', '.join(map(repr, words))} read as empty" if words else "") + (
                "; the other rows would be quarantined" if sum(fit.bad[w] for w in words) < n else ""))
            if words:
                g.settings["empty"] = words
    elif ctype == "ccy":
        if not all(re.fullmatch(r"[A-Z]{3}", v) for v in vals):
            return None
    elif ctype == "bool":
        if not all(v.lower() in ("true", "false", "1", "0", "yes", "no") for v in vals):
            return None
    return g


NO_VALUE = {"none", "nan", "nil", "null", "n/a", "n.a.", "na", "-", "--", "?", "missing", "tbc", "tbd"}


def _keys(spec: ExportSpec, guesses: dict[str, Guess], ctx: _Context) -> None:
    """Check the export's key against the sample: a unique id, a repeating document number with its lines
    numbered within it, another unique column, a key generated from the row's content. A row number (1, 2,
    3, ... or any even step) comes last: a portal numbers the rows of each export again."""
    first = spec.key[0]
    g = guesses[first]
    values, rows = ctx.values, ctx.rows
    full = [c for c in ctx.columns if len(values[c]) == rows]
    numbered = [c for c in full if _row_numbers(values[c])]
    unique = [c for c in full if len(set(values[c])) == rows and c not in numbered]
    note = f"columns unique in the sample: {', '.join(unique)}" if unique else "no column is unique in the sample"
    if numbered:
        note += f" ({', '.join(numbered)}: a row number, not a key)"
    second = spec.key[1] if len(spec.key) == 2 else None

    def numbered_within(doc: str, why: str) -> None:
        repeats = rows - len(set(values[doc]))
        guesses[first] = Guess([doc], dict(guesses[first].settings) if guesses[first].source == [doc] else {},
                               [why, note])
        assert second is not None
        guesses[second] = Guess(settings={"number_within": [first]}, why=[
            f"{doc} repeats ({repeats:,} time(s) in the sample): lines numbered within each {first} in file order"])

    if g.source is not None and g.source[0] in full and g.source[0] not in numbered:
        repeats = rows - len(set(values[g.source[0]]))
        if repeats and second is not None and guesses[second].source is None:
            numbered_within(g.source[0], g.why[0])
            return
        g.why.append(note)
        return
    # a key is text or a whole number: never a column of amounts or dates
    free = [c for c in unique if c not in ctx.used and not _is_dates(values[c])
            and not ((fit := ctx.number_fit(c)) is not None and fit.decimals)]
    ids = [c for c in free if re.search(r"id|no|num|ref", _key(c))]
    docs = [c for c in full if c not in numbered and c not in ctx.used and len(set(values[c])) < rows
            and re.search(r"id|no|num|ref|doc|number", _key(c)) and not _is_dates(values[c])]
    if not ids and docs and second is not None and guesses[second].source is None:
        numbered_within(docs[0], f"{docs[0]} names the document (a number that repeats over its lines)")
        ctx.used.add(docs[0])
        return
    if free or numbered:
        pick = (ids or numbered or free)[0]
        caveat = " (it counts rows: a re-export may number them again)" if pick in numbered else ""
        guesses[first] = Guess([pick], why=[f"{pick} is unique in the sample ({note}); check it identifies "
                                            f"a row in every export{caveat}"])
        ctx.used.add(pick)
        if second is not None and guesses[second].source is None:
            guesses[second] = Guess(settings={"value": "1"}, why=[f"one line per {first}"])
        return
    why = (f"{g.source[0]} is empty on some rows" if g.source else f"no column for {first}") + \
        f"; {note}: a key generated from the row's content"
    content = [c for c in ctx.columns if c not in numbered]
    guesses[first] = Guess(settings={"generate_key": content, "prefix": spec.name[:3].upper() + "-"}, why=[why])
    if second is not None and guesses[second].source is None:
        guesses[second] = Guess(settings={"value": "1"}, why=["one line per generated key"])
