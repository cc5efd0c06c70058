"""Compiling a mapping for one file's header into SQL: each canonical column's text (renamed, combined,
computed, generated), its typed value (dates, numbers and money by the mapping's conventions), and the
reason a row is filtered out. The mapping model is pipelines/mappings.py; this module never reads a file.

Numbers go through one parser (`number_sql`): the loader types cells with it, and `tandem mapping draft`
runs the same SQL on a file's sample to choose the settings it proposes, so a draft and a load never
disagree on what a cell says.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from pipelines.mappings import ColumnMap, Mapping, Parsing, Where, normalise
from pipelines.read import Source
from store.errors import USAGE, TandemError
from store.exports import ExportType as ExportSpec
from store.sqltext import ident, literal


def _check_columns(mapping: Mapping, spec: ExportSpec) -> None:
    unknown = sorted(set(mapping.columns(spec.name)) - set(spec.column_names))
    if unknown:
        raise TandemError(
            f"Mapping {mapping.name!r} maps {', '.join(unknown)}, which are not columns of {spec.name}.", USAGE
        )


def _text(source: str, trim: bool, empty: Collection[str] = ()) -> str:
    """A source cell as text, empty cells (and cells holding one of the `empty` texts) as NULL."""
    col = ident(source)
    if not trim:
        cell = f"NULLIF({col}, '')"
    else:
        # trim() strips the 17 Unicode space separators, each ' ' or outside ASCII. It costs ~20 ns a cell, so
        # it runs only where one can be at an end: a leading ' ' (< '!'), a trailing ' ', or any non-ASCII
        # character (bytes <> characters). Those tests are ~3x cheaper and the result is the same.
        may_pad = f"{col} < '!' OR suffix({col}, ' ') OR strlen({col}) <> length({col})"
        cell = f"NULLIF(CASE WHEN {may_pad} THEN trim({col}) ELSE {col} END, '')"
    if empty:  # a placeholder such as `N/A - From RDC` is an empty cell: a fallback or default applies
        tokens = ", ".join(literal(t.strip() if trim else t) for t in dict.fromkeys(empty))
        cell = f"CASE WHEN {cell} IN ({tokens}) THEN NULL ELSE {cell} END"
    return cell


@dataclass(frozen=True)
class NumberStyle:
    """How a column writes its numbers: separators, and the currency marks money may carry."""

    decimal: str = "."
    thousands: str = ""
    symbols: tuple[str, ...] = ()  # `$`, `€`, `CAD`, ... before or after the number, with or without a space
    codes: bool = False  # a three-letter currency code there too (checked against the row's currency)

    @property
    def money(self) -> bool:
        return bool(self.symbols) or self.codes

    @property
    def plain(self) -> bool:
        """What DuckDB's reader (and a plain cast) reads as it is: '.' decimals, nothing else."""
        return self.decimal == "." and not self.thousands and not self.money


SPACE = r"[\s\x{00A0}\x{202F}]*"  # spaces, a no-break space, a narrow no-break space (French thousands)


def _re(text: str) -> str:
    """`text` as a literal in an RE2 pattern."""
    return re.sub(r"([\\.^$|?*+()\[\]{}-])", r"\\\1", text)


def _marks(style: NumberStyle) -> str:
    alts = [_re(s) for s in sorted(style.symbols, key=len, reverse=True)] + (["[A-Z]{3}"] if style.codes else [])
    return "(?:" + "|".join(alts) + ")"


def number_sql(text: str, style: NumberStyle) -> str:
    """A DOUBLE from a cell's text written in `style` (NULL when it is not a number).

    Money: one currency mark before or after the number (`$129,348.42`, `$ 200.25`, `-$5`, `$-5`,
    `1.317.169,92 €`, `1,317,169.92 CAD`), and an amount in parentheses is negative (`($5.00)`, accounting).
    """
    num = text
    if style.money:
        marks = _marks(style)
        num = f"CASE WHEN {num} LIKE '(%)' THEN '-' || trim({num}[2:-2]) ELSE {num} END"
        num = f"regexp_replace({num}, {literal('^([-+]?)' + SPACE + marks + SPACE)}, '\\1')"
        num = f"regexp_replace({num}, {literal(SPACE + marks + '$')}, '')"
    if style.thousands:
        num = f"replace({num}, {literal(style.thousands)}, '')"
    if style.decimal != ".":
        num = f"replace({num}, {literal(style.decimal)}, '.')"
    return f"TRY_CAST({num} AS DOUBLE)"


def code_sql(text: str) -> str:
    """The three-letter currency code a money cell carries before or after its number (NULL: none)."""
    lead = f"regexp_extract({text}, {literal('^[-+(]?' + SPACE + '([A-Z]{3})[^A-Za-z]')}, 1)"
    tail = f"regexp_extract({text}, {literal('[^A-Za-z]([A-Z]{3})' + SPACE + '[)]?$')}, 1)"
    return f"coalesce(nullif({lead}, ''), nullif({tail}, ''))"


def number_style(p: Parsing, cm: ColumnMap | None = None) -> NumberStyle:
    """A column's number style: its own settings, else the export's (or mapping's) parsing."""
    dec = (cm.decimal_separator if cm and cm.decimal_separator else None) or p.decimal_separator
    thou = cm.thousands_separator if cm and cm.thousands_separator is not None else p.thousands_separator
    symbols = cm.currency_symbols if cm and cm.currency_symbols is not None else p.currency_symbols
    codes = cm.currency_codes if cm and cm.currency_codes is not None else p.currency_codes
    return NumberStyle(dec, thou, tuple(symbols), bool(codes))


CODE_SUFFIX = "__code"
CODE_RULE = "the currency code in the cell matches the row's currency"


def code_columns(mapping: Mapping, spec: ExportSpec) -> list[str]:
    """The number columns whose cells may carry a currency code to check against the row's currency
    (the export's `ccy` column): each gets a `col__code` beside it when the rows are typed."""
    if not any(c.type == "ccy" for c in spec.columns):
        return []
    p, cms = mapping.parsing_for(spec.name), mapping.columns(spec.name)
    return [c.name for c in spec.columns if c.type in ("dec", "int") and number_style(p, cms.get(c.name)).codes
            and not _computed(cms.get(c.name))]


def code_checks(mapping: Mapping, spec: ExportSpec, text: dict[str, str]) -> dict[str, str]:
    """Per column of `code_columns`: SQL giving the code its cell carries where that code is not the row's
    currency (NULL where they agree, or either is missing)."""
    cols = code_columns(mapping, spec)
    if not cols:
        return {}
    ccy = next(c.name for c in spec.columns if c.type == "ccy")
    out = {}
    for c in cols:
        code = code_sql(text[c])
        out[c] = f"CASE WHEN {code} <> upper({text[ccy]}) THEN {code} END"
    return out


def _computed(cm: ColumnMap | None) -> bool:
    return cm is not None and (cm.expr is not None or cm.number_within is not None
                               or cm.after_supplier_terms is not None)


def filter_sql(mapping: Mapping, spec: ExportSpec, header: list[str]) -> str | None:
    """The reason a row is filtered out (the first filter it matches), NULL when it is kept; None when
    the export has no filters."""
    filters = mapping.filters(spec.name)
    if not filters:
        return None
    available = set(header)
    empty = mapping.empty_for(spec.name)

    def cond(w: Where) -> str:
        if w.all_ is not None:
            return "(" + " AND ".join(map(cond, w.all_)) + ")" if w.all_ else "true"
        if w.any_ is not None:
            return "(" + " OR ".join(map(cond, w.any_)) + ")" if w.any_ else "false"
        if w.not_ is not None:
            return f"(NOT {cond(w.not_)})"
        assert w.column is not None
        name = normalise(w.column)
        if name not in available:
            raise TandemError(f"Mapping {mapping.name!r} filters on column {w.column!r}, which the file does not "
                              f"have.")
        cell = _text(name, mapping.trim, empty)
        if w.equals is not None:
            test = f"{cell} IN ({', '.join(literal(v) for v in w.equals)})"
        elif w.not_equals is not None:
            test = f"{cell} NOT IN ({', '.join(literal(v) for v in w.not_equals)})"
        elif w.starts_with is not None:
            test = f"starts_with({cell}, {literal(w.starts_with)})"
        elif w.contains is not None:
            test = f"contains({cell}, {literal(w.contains)})"
        else:
            test = f"({cell} IS NULL) = {'true' if w.empty else 'false'}"
        return f"coalesce({test}, false)"

    whens = " ".join(f"WHEN {cond(f.where)} THEN {literal(f.reason)}" for f in filters)
    return f"CASE {whens} END"


def canonical_text_sql(
    mapping: Mapping, spec: ExportSpec, header: list[str], line_col: str = "_line",
    typed_cells: Collection[str] = (),
) -> dict[str, str]:
    """SQL expression per canonical column giving its text (NULL when empty), from the raw columns.

    Columns in `typed_cells` come from a cell DuckDB's reader has typed already (see `reader_types`):
    their expression is that cell. Raises a TandemError naming every required column the file and
    mapping together do not provide.
    """
    _check_columns(mapping, spec)
    available = set(header)
    missing_sources: list[str] = []
    missing_required: list[str] = []
    out: dict[str, str] = {}

    p = mapping.parsing_for(spec.name)
    numbered: dict[str, ColumnMap] = {}
    by_terms: dict[str, ColumnMap] = {}

    def src(name: str, cm: ColumnMap | None = None) -> str:
        n = normalise(name)
        if n not in available:
            missing_sources.append(name)
        return _text(n, mapping.trim, mapping.empty_for(spec.name, cm))

    for col in spec.columns:
        cm = mapping.columns(spec.name).get(col.name)
        if col.name in typed_cells:
            out[col.name] = ident(_direct_source(col.name, cm))
            continue
        if cm is None:
            if col.name in available:
                expr = _text(col.name, mapping.trim, mapping.empty_for(spec.name))
            elif col.nullable:
                expr = "NULL"
            else:
                missing_required.append(col.name)
                continue
        elif cm.value is not None:
            expr = literal(cm.value)
        elif cm.generate_key is not None:
            # A content hash of the named columns plus the occurrence number among identical rows: the
            # same file always yields the same keys, and identical rows still get distinct keys.
            parts = ", ".join(f"coalesce({src(c)}, '')" for c in cm.generate_key)
            content = f"concat_ws(chr(31), {parts})"
            occurrence = f"row_number() OVER (PARTITION BY {content} ORDER BY {line_col})"
            expr = f"{literal(cm.prefix)} || substr(md5({content} || chr(31) || {occurrence}), 1, 20)"
        elif cm.expr is not None:
            from pipelines.expr import compile_expr

            def operand(name: str, cm: ColumnMap = cm) -> tuple[str, str]:
                text = src(name, cm)
                return text, number_sql(text, number_style(p, cm))

            def day(name: str, cm: ColumnMap = cm) -> str:
                tries = [f"try_strptime({src(name, cm)}, {literal(f)})" for f in (cm.date_format or p.date_format)]
                return f"CAST({tries[0] if len(tries) == 1 else 'coalesce(' + ', '.join(tries) + ')'} AS DATE)"

            expr = compile_expr(cm.expr, operand, day)
        elif cm.number_within is not None:
            numbered[col.name] = cm
            continue
        elif cm.after_supplier_terms is not None:
            if (spec.name, col.name) != ("invoices", "due_date"):
                raise TandemError(f"Mapping {mapping.name!r}: after_supplier_terms derives an invoice's due_date "
                                  f"only, not {spec.name}.{col.name}.", USAGE)
            by_terms[col.name] = cm
            continue
        else:
            sources = [src(c, cm) for c in cm.from_ or []]
            expr = sources[0] if len(sources) == 1 else f"coalesce({', '.join(sources)})"
            if cm.prefix:
                expr = f"{literal(cm.prefix)} || {expr}"
        if cm is not None and cm.default is not None:
            expr = f"coalesce({expr}, {literal(cm.default)})"
        out[col.name] = expr
    for name, cm in numbered.items():
        # 1, 2, ... in file order within each value of the named columns (canonical, else source columns)
        parts = [out[n] if n in out and n not in numbered else src(n, cm) for n in cm.number_within or []]
        if any("OVER (" in x for x in parts):
            raise TandemError(f"Mapping {mapping.name!r}: {name} cannot number lines within a generated key.", USAGE)
        within = ", ".join(parts) or "NULL"
        expr = f"CAST(row_number() OVER (PARTITION BY {within} ORDER BY {line_col}) AS VARCHAR)"
        out[name] = f"{literal(cm.prefix)} || {expr}" if cm.prefix else expr
    for name, cm in by_terms.items():
        # the source date + the terms the supplier master holds for the row's supplier_id (as it loads)
        tries = [f"try_strptime({src(cm.after_supplier_terms or '', cm)}, {literal(f)})"
                 for f in (cm.date_format or p.date_format)]
        day = f"CAST({tries[0] if len(tries) == 1 else 'coalesce(' + ', '.join(tries) + ')'} AS DATE)"
        terms = f"(SELECT t.payment_terms_days FROM suppliers t WHERE t.supplier_id = {out.get('supplier_id', 'NULL')})"
        if cm.terms_if_unknown is not None:
            terms = f"coalesce({terms}, {int(cm.terms_if_unknown)})"
        out[name] = f"strftime({day} + CAST({terms} AS INTEGER), '%Y-%m-%d')"
    out = {c.name: out[c.name] for c in spec.columns if c.name in out}
    if missing_sources:
        raise TandemError(
            f"Mapping {mapping.name!r} reads column(s) {', '.join(sorted(set(missing_sources)))} "
            f"that the file does not have.",
        )
    if missing_required:
        raise TandemError(f"Missing required column(s) for {spec.name}: {', '.join(missing_required)}.")
    return out


def _finite(dbl: str) -> str:
    """A decimal from a DOUBLE: isfinite rejects what a cast lets through, 'nan', 'inf' and '1e400'."""
    return f"CASE WHEN isfinite({dbl}) THEN {dbl} END"


def _whole(dbl: str) -> str:
    """A whole number from a DOUBLE ('5', '5.0' and '5e0' are 5; '2.5' is not one)."""
    return f"CASE WHEN {dbl} = round({dbl}) AND abs({dbl}) < 9e15 THEN CAST({dbl} AS BIGINT) END"


READER_TYPES = {"dec": "DOUBLE", "int": "DOUBLE", "date": "DATE"}
READER_DATE_FORMAT = "%Y-%m-%d"  # read_csv takes one dateformat for every DATE column


def _direct_source(column: str, cm: ColumnMap | None) -> str:
    return normalise(cm.from_[0]) if cm and cm.from_ else column


def reader_types(mapping: Mapping, spec: ExportSpec, header: list[str]) -> dict[str, tuple[str, str]]:
    """The canonical columns whose source cells DuckDB's CSV reader can type itself: (source column, type).

    Typing in the reader costs almost nothing where typing text in SQL costs ~2 s per 10M lines. It is
    used where the two agree on every value the reader accepts (the reader rejecting more only sends the
    file to the staged path): number columns with '.' decimals and no thousands separator, and date
    columns in READER_DATE_FORMAT, each read straight from one source column used by nothing else.
    """
    if not mapping.trim:  # the reader takes ' 12.5' as 12.5, as typing the trimmed text does
        return {}
    cms = mapping.columns(spec.name)
    p = mapping.parsing_for(spec.name)
    uses = Counter(normalise(c) for cm in cms.values()
                   for c in (cm.from_ or []) + (cm.generate_key or []) + [cm.after_supplier_terms or ""] if c)
    uses.update(c.name for c in spec.columns if c.name not in cms)
    out: dict[str, tuple[str, str]] = {}
    for col in spec.columns:
        cm = cms.get(col.name)
        if col.type not in READER_TYPES or (cm and (cm.from_ is None or len(cm.from_) != 1 or cm.prefix
                                                    or cm.default is not None)):
            continue
        if mapping.empty_for(spec.name, cm):  # a placeholder text is an empty cell, which the reader cannot say
            continue
        source = _direct_source(col.name, cm)
        if source not in header or uses[source] != 1:
            continue
        if col.type == "date":
            plain = ((cm.date_format if cm and cm.date_format else None) or p.date_format) == [READER_DATE_FORMAT]
        else:
            plain = number_style(p, cm).plain
        if plain:
            out[col.name] = (source, READER_TYPES[col.type])
    return out


def typed_sql(mapping: Mapping, spec: ExportSpec, text: dict[str, str], typed_cells: Collection[str] = ()
              ) -> dict[str, str]:
    """SQL expression per canonical column parsing its text into the contract type (NULL if it fails).

    Everything is a TRY_ form: a failure becomes NULL here and is reported by the pandera parse check,
    which compares each typed value with its raw text. A column in `typed_cells` gets a cell DuckDB's
    reader typed (a DOUBLE for numbers, a DATE): only the contract's own limits are left to apply.
    """
    out: dict[str, str] = {}
    for col in spec.columns:
        t = ident(col.name + "__raw")
        cm = mapping.columns(spec.name).get(col.name)
        p = mapping.parsing_for(spec.name)
        if col.name in typed_cells:
            out[col.name] = {"dec": _finite, "int": _whole}.get(col.type, str)(t)
            continue
        if col.type in ("str", "ccy"):
            expr = t
        elif _computed(cm):
            # computed text is canonical: ISO dates and '.' decimals, whatever the file's own conventions
            if col.type in ("date", "period"):
                expr = f"CAST(try_strptime({t}, '%Y-%m-%d') AS DATE)"
                if col.type == "period":
                    expr = f"CAST(date_trunc('month', {expr}) AS DATE)"
            elif col.type in ("dec", "int"):
                dbl = f"TRY_CAST({t} AS DOUBLE)"
                expr = _finite(dbl) if col.type == "dec" else _whole(dbl)
            else:
                expr = t
        elif col.type in ("date", "period"):
            fmts = (cm.date_format if cm and cm.date_format else None) or (
                p.date_format if col.type == "date" else p.period_format
            )
            tries = [f"try_strptime({t}, {literal(f)})" for f in fmts]
            expr = f"CAST({tries[0] if len(tries) == 1 else 'coalesce(' + ', '.join(tries) + ')'} AS DATE)"
            if col.type == "period":  # a period is its month, whatever day a date format gave
                expr = f"CAST(date_trunc('month', {expr}) AS DATE)"
        elif col.type in ("dec", "int"):
            dbl = number_sql(t, number_style(p, cm))
            expr = _finite(dbl) if col.type == "dec" else _whole(dbl)
        elif col.type == "bool":
            expr = (f"CASE WHEN lower({t}) IN ('true', '1', 'yes', '1.0') THEN true "
                    f"WHEN lower({t}) IN ('false', '0', 'no', '0.0') THEN false END")
        else:  # pragma: no cover - the spec only has the types above
            raise AssertionError(col.type)
        out[col.name] = expr
    return out


def source_columns(mapping: Mapping, spec: ExportSpec) -> list[str]:
    """The source columns a file must have for `mapping` to map `spec` (normalised): every column it reads
    by name, and each required canonical column it does not map. The reader looks for the header line
    holding them all (below a preamble, say)."""
    from pipelines.expr import names

    cms = mapping.columns(spec.name)
    out: list[str] = []
    for col in spec.columns:
        cm = cms.get(col.name)
        if cm is None:
            if not col.nullable:
                out.append(col.name)
            continue
        out += [*(cm.from_ or []), *(cm.generate_key or []), *([cm.after_supplier_terms] if cm.after_supplier_terms
                                                              else [])]
        if cm.expr is not None:
            out += names(cm.expr)
    for f in mapping.filters(spec.name):
        out += _where_columns(f.where)
    return list(dict.fromkeys(normalise(c) for c in out))


def _where_columns(w: Where) -> list[str]:
    if w.column is not None:
        return [w.column]
    return [c for sub in [*(w.all_ or []), *(w.any_ or []), *([w.not_] if w.not_ else [])] for c in _where_columns(sub)]


@dataclass(frozen=True)
class Mapped:
    """Stage 2's result: a file's header and a mapping compiled together for one export type. Building it
    proves the mapping fits the file (every column it reads is there); nothing is read yet."""

    source: Source
    spec: ExportSpec
    mapping: Mapping
    text: dict[str, str]  # each canonical column's text as SQL over the source cells

    @property
    def filtering(self) -> bool:
        """Rows may be left out on purpose (filters, or one row per key of master data)."""
        return bool(self.mapping.filters(self.spec.name) or self.mapping.distinct(self.spec.name))

    @property
    def header(self) -> list[str]:
        return list(self.source.header)


def map_columns(source: Source, spec: ExportSpec, mapping: Mapping) -> Mapped:
    """Stage 2: compile `mapping` for the file's header; a sentence names every column it lacks."""
    try:
        text = canonical_text_sql(mapping, spec, list(source.header))
        filter_sql(mapping, spec, list(source.header))
    except TandemError as exc:
        if exc.exit_code == USAGE or source.fmt == "parquet":
            raise
        shown = ", ".join(source.header[:12]) + (", ..." if len(source.header) > 12 else "")
        unit = "row" if source.fmt == "xlsx" else "line"
        raise TandemError(f"{source.path.name}: {exc.message.rstrip('.')} (the header, {unit} "
                          f"{source.header_line}, has {shown}); a preamble above the header? set header_row "
                          "in the mapping.", exc.exit_code) from None
    return Mapped(source, spec, mapping, text)
