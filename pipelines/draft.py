"""`tandem mapping draft`: a starting source mapping from a file's header and a sample of its values.

Every guess is written with a comment saying why (a name match, what the values look like), so a person
can check it: column matches by name and content, date formats, decimal commas and thousands separators,
placeholder texts in date columns, candidate keys, constant columns. Columns the contract requires and
the file does not have get a constant marked TODO.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

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


def _sniff(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        first = f.readline()
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: counts[d])


def sample(path: Path, delimiter: str | None = None) -> tuple[pl.DataFrame, str]:
    """The first rows of a CSV file as text (empty cells as null, cells trimmed) and its delimiter."""
    if not path.is_file():
        raise TandemError(f"{path}: no such file.", USAGE)
    if path.suffix.lower() != ".csv":
        raise TandemError(f"{path.name}: a draft is made from a CSV file.", USAGE)
    sep = delimiter or _sniff(path)
    df = pl.read_csv(path, separator=sep, infer_schema=False, n_rows=SAMPLE_ROWS, encoding="utf8-lossy",
                     truncate_ragged_lines=True)
    df = df.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in df.columns)
    return df, sep


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


_NUM_DOT = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_NUM_COMMA = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


def _number_style(values: list[str]) -> tuple[str, str] | None:
    """(decimal separator, thousands separator) that read every value, None if they are not numbers."""
    vals = [v.replace(" ", "").lstrip("£$€") for v in values]
    if not vals:
        return None
    if all(_NUM_DOT.match(v) for v in vals):
        return ".", ("," if any("," in v for v in vals) else "")
    if all(_NUM_COMMA.match(v) for v in vals):
        return ",", ("." if any("." in v for v in vals) else "")
    return None


@dataclass
class Guess:
    source: list[str] | None = None
    lines: dict[str, str] = field(default_factory=dict)  # setting -> YAML value
    why: list[str] = field(default_factory=list)


def guess_type(path: Path, df: pl.DataFrame) -> str:
    stem = path.name.lower()
    for name in sorted(EXPORTS, key=len, reverse=True):
        if stem.startswith(name):
            return name
    names = {_key(c) for c in df.columns}

    def score(spec: ExportSpec) -> tuple[int, float]:
        """Distinct source columns the export's columns match by name, then the share of its required ones."""
        hits = [set(SYNONYMS.get(c.name, [])) & names for c in spec.columns]
        required = [h for h, c in zip(hits, spec.columns, strict=True) if not c.nullable]
        return len(set().union(*hits)), sum(1 for h in required if h) / max(1, len(required))

    return max(EXPORTS, key=lambda t: score(EXPORTS[t]))


def draft(path: Path, export_type: str | None = None, delimiter: str | None = None) -> str:
    """The YAML text of a starting mapping for `path`, every guess commented."""
    df, sep = sample(path, delimiter)
    if export_type is not None and export_type not in EXPORTS:
        raise TandemError(f"Unknown export type {export_type!r}; expected one of {', '.join(EXPORTS)}.", USAGE)
    etype = export_type or guess_type(path, df)
    spec = EXPORTS[etype]
    found = [p for p in PLACEHOLDERS if any(p in set(df[c].drop_nulls().unique().to_list()) for c in df.columns)]
    values = {c: [v for v in df[c].to_list() if v is not None and v not in found] for c in df.columns}
    used: set[str] = set()
    guesses: dict[str, Guess] = {}
    for col in spec.columns:
        guesses[col.name] = _match(col.name, col.type, df.columns, values, used, df.height)
        g = guesses[col.name]
        if g.source and not col.nullable and col.type == "str" and all(len(values[c]) < df.height for c in g.source):
            g.lines["default"] = "Unclassified" if col.name == "category" else "UNKNOWN"
            g.why.append("empty on some rows: a default")
    _keys(spec, guesses, df, values)
    paid, invoiced = guesses.get("paid_date"), guesses.get("invoice_date")
    if paid is not None and invoiced is not None and paid.source and paid.source == invoiced.source:
        guesses["paid_date"] = Guess(why=[f"{paid.source[0]} is already the invoice date: left empty (the same "
                                          f"column for both would make every payment take 0 days)"])
    price, qty = guesses.get("unit_price"), guesses.get("quantity")
    if price is not None and price.source is None and qty is not None and qty.source:
        total = _match("amount", "dec", df.columns, values, used, df.height)
        if total.source:
            a, q = total.source[0], qty.source[0]
            price.lines, price.why = {"expr": _yaml(f"{_name(a)} / {_name(q)}")}, [
                f"no unit price: the line value {a} divided by the quantity {q}"]
    for col in spec.columns:
        g = guesses[col.name]
        if g.source is None and not g.lines and not col.nullable:
            invoiced = guesses.get("invoice_date")
            if (spec.name, col.name) == ("invoices", "due_date") and invoiced is not None and invoiced.source:
                # derived by the contract's rule, not taken from the invoice date (that makes every invoice due
                # the day it is issued): the supplier master's terms, 30 days for a supplier it does not hold
                g.lines = {"after_supplier_terms": _yaml(invoiced.source[0]),
                           **{k: v for k, v in invoiced.lines.items() if k == "date_format"},
                           "terms_if_unknown": "30"}
                g.why = ["no due date in the file: the invoice date + the supplier's payment terms from the supplier "
                         "master (load it first); TODO: check the 30 days used for suppliers it does not hold"]
                continue
            if col.type in ("date", "period"):
                dates = [n for n, x in guesses.items() if x.source and spec.column(n).type == col.type]
                if dates:
                    g.lines, g.why = dict(guesses[dates[0]].lines), [
                        f"TODO: no column for {col.name}; {dates[0]}'s column taken (check: it can make "
                        f"durations 0)"]
                    g.source = guesses[dates[0]].source
                    continue
            value, why = CONSTANTS.get(col.name, ("UNKNOWN", f"TODO: no column found for {col.name}"))
            g.lines, g.why = {"value": _yaml(value)}, [why]
    header = ", ".join(df.columns)
    out = [f"# Drafted by `tandem mapping draft` from {path.name} ({df.height:,} sample rows, "
           f"delimiter {sep!r}). Check every guess, then try it with `tandem mapping check`.",
           f"# Columns: {header}"]
    constants = [c for c in df.columns if len(set(values[c])) == 1 and len(values[c]) == df.height]
    if constants:
        out.append(f"# Constant in the sample: {', '.join(f'{c} = {values[c][0]!r}' for c in constants)}")
    unused = [c for c in df.columns if c not in used]
    if unused:
        out.append(f"# Not used: {', '.join(unused)}")
    out += [f"name: {_yaml(path.stem.lower())}", f"description: {_yaml('drafted from ' + path.name)}"]
    if sep != ",":
        out.append(f"delimiter: {_yaml(sep)}")
    if found:
        out += ["# Placeholder texts in the sample, read as empty cells everywhere:",
                f"empty: [{', '.join(_yaml(p) for p in found)}]"]
    out += ["exports:", f"  {etype}:", "    columns:"]
    for col in spec.columns:
        g = guesses[col.name]
        if g.source is None and not g.lines:
            out.append(f"      # {col.name}: {g.why[0] if g.why else 'no column found'} (it may be empty)")
            continue
        for why in g.why:
            out.append(f"      # {col.name}: {why}")
        settings = []
        if g.source is not None:
            src = g.source[0] if len(g.source) == 1 else "[" + ", ".join(_yaml(s) for s in g.source) + "]"
            settings.append(f"from: {_yaml(src) if len(g.source) == 1 else src}")
        settings += [f"{k}: {v}" for k, v in g.lines.items()]
        out.append(f"      {col.name}: {{{', '.join(settings)}}}")
    return "\n".join(out) + "\n"


def _name(column: str) -> str:
    """A column name as an expression names it: bare, or in double quotes."""
    return column if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column) else f'"{column}"'


def _yaml(s: str) -> str:
    if s.startswith("[") or s.startswith("{"):
        return s
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ .-]*", s) and s.lower() not in ("yes", "no", "true", "false", "null",
                                                                           "on", "off"):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _match(name: str, ctype: str, columns: list[str], values: dict[str, list[str]], used: set[str],
           rows: int) -> Guess:
    syn = SYNONYMS.get(name, [_key(name)])
    ranked: list[tuple[int, str, str]] = []
    for c in columns:
        k = _key(c)
        if k in syn:
            ranked.append((100 - syn.index(k), c, f"the name matches ({c})"))
        else:
            part = [s for s in syn if len(s) >= 4 and s in k]
            if part:
                ranked.append((50 - syn.index(part[0]), c, f"the name resembles {part[0]!r}"))
    ranked.sort(key=lambda r: -r[0])
    for _, c, why in ranked:
        if c in used and ctype != "date":
            continue
        g = _fits(ctype, values[c])
        if g is None:
            continue
        g.source, g.why = [c], [why, *g.why]
        used.add(c)
        if len(values[c]) < rows and ctype in ("str", "date"):  # empty on some rows: a fallback column
            for score, other, _ in ranked:
                if score > 50 and other != c and other not in used and values[other] and (
                        ctype == "str" or _fits(ctype, values[other]) is not None):
                    g.source.append(other)
                    g.why.append(f"{c} is empty on {rows - len(values[c]):,} sample rows: {other} where it is")
                    used.add(other)
                    break
        return g
    if name in CONTENT_MATCHES:  # by content: the first unused column that fits
        for c in columns:
            if c in used or not values[c]:
                continue
            if ctype == "dec" and not any(re.search(r"[.,]\d{1,2}$", v) for v in values[c]):
                continue  # an amount has decimals somewhere: codes and counts do not
            g = _fits(ctype, values[c])
            if g is not None:
                used.add(c)
                g.source, g.why = [c], [f"by content: {c} holds {'dates' if ctype == 'date' else 'amounts'}", *g.why]
                return g
    if ctype == "ccy":  # by content: a column of currency codes
        for c in columns:
            if c not in used and values[c] and set(values[c]) <= CURRENCIES:
                used.add(c)
                return Guess([c], why=[f"{c} holds currency codes"])
    return Guess()


def _fits(ctype: str, vals: list[str]) -> Guess | None:
    """The settings that read a column's sample values as `ctype`, or None when they do not."""
    g = Guess()
    if not vals:
        g.why.append("empty in the sample")
        return g
    if ctype in ("date", "period"):
        fmt, also, placeholders = _date_format(vals, DATE_FORMATS if ctype == "date" else PERIOD_FORMATS + DATE_FORMATS)
        if fmt is None:
            return None
        if fmt != "%Y-%m-%d" or ctype == "period":
            g.lines["date_format"] = _yaml(fmt)
        g.why.append(f"dates as {fmt}" + (f" (also fits {', '.join(also)}: check the order)" if also else ""))
        if placeholders:
            g.lines["empty"] = "[" + ", ".join(_yaml(p) for p in placeholders) + "]"
            g.why.append(f"placeholder text read as empty: {', '.join(placeholders)}")
    elif ctype in ("dec", "int"):
        style = _number_style(vals)
        if style is None:
            return None
        dec, thou = style
        if dec != ".":
            g.lines["decimal_separator"] = _yaml(dec)
            g.why.append("decimal comma")
        if thou:
            g.lines["thousands_separator"] = _yaml(thou)
            g.why.append(f"thousands separated by {thou!r}")
    elif ctype == "ccy":
        if not all(re.fullmatch(r"[A-Z]{3}", v) for v in vals):
            return None
    elif ctype == "bool":
        if not all(v.lower() in ("true", "false", "1", "0", "yes", "no") for v in vals):
            return None
    return g


def _keys(spec: ExportSpec, guesses: dict[str, Guess], df: pl.DataFrame, values: dict[str, list[str]]) -> None:
    """Check the export's key against the sample: unique, a line number within a repeated document
    number, or a generated key when no column identifies a row."""
    first = spec.key[0]
    g = guesses[first]
    unique = [c for c in df.columns if len(values[c]) == df.height and len(set(values[c])) == df.height]
    note = f"columns unique in the sample: {', '.join(unique)}" if unique else "no column is unique in the sample"
    if g.source is not None and len(values[g.source[0]]) == df.height:
        repeats = df.height - len(set(values[g.source[0]]))
        if repeats and len(spec.key) == 2 and guesses[spec.key[1]].source is None:
            guesses[spec.key[1]] = Guess(lines={"number_within": f"[{first}]"}, why=[
                f"{g.source[0]} repeats ({repeats:,} times in the sample): lines numbered within each {first} "
                f"in file order"])
        g.why.append(note)
        return
    if unique:
        ids = [c for c in unique if re.search(r"id|no|num|ref", _key(c))] or unique
        guesses[first] = Guess([ids[0]], why=[f"{ids[0]} is unique in the sample ({note}); check it identifies "
                                              f"a row in every export"])
        if len(spec.key) == 2 and guesses[spec.key[1]].source is None:
            guesses[spec.key[1]] = Guess(lines={"value": "1"}, why=[f"one line per {first}"])
        return
    why = (f"{g.source[0]} is empty on some rows" if g.source else f"no column for {first}") + \
        f"; {note}: a key generated from the row's content"
    guesses[first] = Guess(lines={"generate_key": "[" + ", ".join(_yaml(c) for c in df.columns) + "]",
                                  "prefix": _yaml(spec.name[:3].upper() + "-")}, why=[why])
    if len(spec.key) == 2 and guesses[spec.key[1]].source is None:
        guesses[spec.key[1]] = Guess(lines={"value": "1"}, why=["one line per generated key"])
