"""Source mappings: YAML files that turn one source system's export columns into the canonical ones."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.schemas import EXPORTS, ExportSpec
from store.errors import USAGE, TandemError
from store.sqltext import ident, literal

MAPPINGS_DIR = Path(__file__).parent / "mappings"


def normalise(name: str) -> str:
    """Column names are matched after trimming and lower-casing (contract section 1)."""
    return name.strip().lower()


class Parsing(BaseModel):
    """How text becomes typed values; set for the whole export and overridable per column."""

    model_config = ConfigDict(extra="forbid")
    date_format: list[str] = Field(default_factory=lambda: ["%Y-%m-%d"])
    period_format: list[str] = Field(default_factory=lambda: ["%Y-%m"])
    decimal_separator: str = "."
    thousands_separator: str = ""

    @field_validator("date_format", "period_format", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


def _texts(v: Any) -> Any:
    """A YAML scalar or list of scalars as a list of text (`empty: N/A` or `empty: [N/A, "-", 0]`)."""
    if v is None:
        return v
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


SOURCES = ("from", "value", "generate_key", "expr", "number_within", "after_supplier_terms")


class ColumnMap(BaseModel):
    """Where one canonical column comes from. Exactly one of from_/value/generate_key/expr/number_within."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: list[str] | None = Field(default=None, alias="from")
    value: str | None = None
    generate_key: list[str] | None = None
    expr: str | None = None  # a computed column (pipelines/expr.py)
    number_within: list[str] | None = None  # 1, 2, ... in file order within each value of these columns
    # A due date: this source date column + the payment_terms_days of the row's supplier in the supplier
    # master loaded before (`terms_if_unknown` days for a supplier it does not hold; else the row has no
    # due date and is quarantined for it).
    after_supplier_terms: str | None = None
    terms_if_unknown: int | None = Field(default=None, ge=0, le=365)
    prefix: str = ""
    default: str | None = None
    empty: list[str] = Field(default_factory=list)  # texts read as an empty cell in this column's sources
    date_format: list[str] | None = None
    decimal_separator: str | None = None
    thousands_separator: str | None = None

    @field_validator("from_", "generate_key", "date_format", "number_within", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("empty", mode="before")
    @classmethod
    def _empty(cls, v: Any) -> Any:
        return _texts(v)

    @field_validator("value", "default", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return None if v is None else str(v)

    @field_validator("expr")
    @classmethod
    def _parses(cls, v: str | None) -> str | None:
        if v is not None:
            from pipelines.expr import compile_expr

            try:
                compile_expr(v, lambda name: ("NULL", "NULL"))
            except TandemError as exc:
                raise ValueError(exc.message.rstrip(".")) from None
        return v

    @model_validator(mode="after")
    def _one_source(self) -> ColumnMap:
        given = [x for x in (self.from_, self.value, self.generate_key, self.expr, self.number_within,
                             self.after_supplier_terms) if x is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(repr(s) for s in SOURCES)}")
        if self.terms_if_unknown is not None and self.after_supplier_terms is None:
            raise ValueError("terms_if_unknown goes with after_supplier_terms")
        return self


class Where(BaseModel):
    """A row condition on source cells (trimmed text, empty tokens read as empty): a column and one test,
    or all/any/not of other conditions. Compiled to SQL; values are always literals."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    column: str | None = None
    equals: list[str] | None = None
    not_equals: list[str] | None = None
    starts_with: str | None = None
    contains: str | None = None
    empty: bool | None = None
    all_: list[Where] | None = Field(default=None, alias="all")
    any_: list[Where] | None = Field(default=None, alias="any")
    not_: Where | None = Field(default=None, alias="not")

    @field_validator("equals", "not_equals", mode="before")
    @classmethod
    def _values(cls, v: Any) -> Any:
        return _texts(v)

    @field_validator("starts_with", "contains", mode="before")
    @classmethod
    def _str(cls, v: Any) -> Any:
        return None if v is None else str(v)

    @model_validator(mode="after")
    def _one_test(self) -> Where:
        tests = [t for t in ("equals", "not_equals", "starts_with", "contains", "empty") if getattr(self, t) is not None]
        groups = [g for g in ("all_", "any_", "not_") if getattr(self, g) is not None]
        if self.column is not None and len(tests) == 1 and not groups:
            return self
        if self.column is None and not tests and len(groups) == 1:
            return self
        raise ValueError("give a 'column' and one of equals, not_equals, starts_with, contains, empty; "
                         "or one of all, any, not")


class Filter(BaseModel):
    """Rows left out on purpose, with the reason recorded for each (e.g. internal transfers, totals rows)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1)
    where: Where


class Distinct(BaseModel):
    """Master data from a transaction file: one row per key, each other column by `rule` where the rows
    of a key disagree (first or last in file order, or the most frequent value, first on a tie)."""

    model_config = ConfigDict(extra="forbid")
    rule: Literal["first", "last", "most_frequent"] = "first"


class ExportMapping(BaseModel):
    """The column maps of one export type; columns not named come from a same-named source column."""

    model_config = ConfigDict(extra="forbid")
    columns: dict[str, ColumnMap] = Field(default_factory=dict)
    parsing: Parsing | None = None
    empty: list[str] = Field(default_factory=list)  # texts read as empty in every column of this export
    filters: list[Filter] = Field(default_factory=list)
    distinct: Distinct | None = None

    @field_validator("empty", mode="before")
    @classmethod
    def _empty(cls, v: Any) -> Any:
        return _texts(v)


class Mapping(BaseModel):
    """One source system: its file conventions and, per export type, where the canonical columns come from."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    delimiter: str | None = None
    trim: bool = True
    empty: list[str] = Field(default_factory=list)  # texts read as an empty cell everywhere (`N/A`, `-`)
    parsing: Parsing = Field(default_factory=Parsing)
    exports: dict[str, ExportMapping] = Field(default_factory=dict)

    @field_validator("empty", mode="before")
    @classmethod
    def _empty(cls, v: Any) -> Any:
        return _texts(v)

    @field_validator("exports")
    @classmethod
    def _known_types(cls, v: dict[str, ExportMapping]) -> dict[str, ExportMapping]:
        unknown = sorted(set(v) - set(EXPORTS))
        if unknown:
            raise ValueError(f"unknown export type(s) {', '.join(unknown)}; expected {', '.join(EXPORTS)}")
        return v

    @property
    def export_type(self) -> str | None:
        """The export type when the mapping describes exactly one."""
        return next(iter(self.exports)) if len(self.exports) == 1 else None

    def columns(self, export_type: str) -> dict[str, ColumnMap]:
        em = self.exports.get(export_type)
        return em.columns if em else {}

    def parsing_for(self, export_type: str) -> Parsing:
        em = self.exports.get(export_type)
        return em.parsing if em and em.parsing else self.parsing

    def empty_for(self, export_type: str, cm: ColumnMap | None = None) -> list[str]:
        """The texts read as an empty cell in a column: the mapping's, the export's and the column's own."""
        em = self.exports.get(export_type)
        return [*self.empty, *(em.empty if em else []), *(cm.empty if cm else [])]

    def filters(self, export_type: str) -> list[Filter]:
        em = self.exports.get(export_type)
        return em.filters if em else []

    def distinct(self, export_type: str) -> Distinct | None:
        em = self.exports.get(export_type)
        return em.distinct if em else None

    def in_file_order(self, export_type: str) -> bool:
        """Whether the export needs rows numbered in file order (`_line`) while it is mapped: generated
        keys, line numbers within a key, filters (each filtered line is listed) and distinct keys."""
        cms = self.columns(export_type).values()
        return bool(any(c.generate_key or c.number_within for c in cms) or self.filters(export_type)
                    or self.distinct(export_type))


IDENTITY = Mapping(name="canonical", description="Columns already carry the canonical names.")


def load_mapping(path_or_name: str | Path) -> Mapping:
    """A mapping from a YAML path, or by name from the bundled `pipelines/mappings/` folder."""
    path = Path(path_or_name)
    if not path.exists() and (MAPPINGS_DIR / f"{path_or_name}.yaml").exists():
        path = MAPPINGS_DIR / f"{path_or_name}.yaml"
    if not path.exists():
        raise TandemError(f"Mapping file {path} does not exist.", USAGE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TandemError(f"Mapping file {path} is not valid YAML{at}: {what}.", USAGE) from exc
    if not isinstance(data, dict):
        raise TandemError(f"Mapping file {path} is not valid: it must be a YAML mapping with at least "
                          f"'name' and 'exports'.", USAGE)
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors()[:3])
        raise TandemError(f"Mapping file {path} is not valid: {problems}.", USAGE) from exc


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The mapping model a location inside a mapping file points into (None past a plain value)."""
    import types
    import typing

    node: Any = Mapping
    for part in loc:
        while typing.get_origin(node) in (typing.Union, types.UnionType):
            node = next((a for a in typing.get_args(node) if a is not type(None)), None)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = next((f for n, f in node.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return node
            node = field.annotation
        elif typing.get_origin(node) is dict:
            node = typing.get_args(node)[1]
        elif typing.get_origin(node) is list:
            node = typing.get_args(node)[0]
        else:
            return None
    while typing.get_origin(node) in (typing.Union, types.UnionType):
        node = next((a for a in typing.get_args(node) if a is not type(None)), None)
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _settings(model: type[BaseModel]) -> str:
    return ", ".join(f.alias or n for n, f in model.model_fields.items())


def _problem(error: Any) -> str:
    """One pydantic error as a sentence a mapping's author can act on: where, what, and what is allowed."""
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "the top level"
    if error["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = f"; allowed there: {_settings(parent)}" if parent else ""
        place = ".".join(str(p) for p in loc[:-1]) or "the top level"
        return f"{loc[-1]!r} is not a setting at {place}{allowed}"
    if error["type"] == "missing":
        return f"{where} is required"
    msg = str(error["msg"]).removeprefix("Value error, ")
    model = _model_at(loc)
    if error["type"] in ("model_type", "dict_type") and model is not None:
        return f"{where} must be a set of settings ({_settings(model)})"
    return f"{where}: {msg}"


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


def _number(text: str, dec: str, thou: str) -> str:
    """A DOUBLE from text with the given separators (NULL when it is not a number)."""
    num = text
    if thou:
        num = f"replace({num}, {literal(thou)}, '')"
    if dec != ".":
        num = f"replace({num}, {literal(dec)}, '.')"
    return f"TRY_CAST({num} AS DOUBLE)"


def _separators(p: Parsing, cm: ColumnMap | None) -> tuple[str, str]:
    dec = (cm.decimal_separator if cm and cm.decimal_separator else None) or p.decimal_separator
    thou = cm.thousands_separator if cm and cm.thousands_separator is not None else p.thousands_separator
    return dec, thou


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
                return text, _number(text, *_separators(p, cm))

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
            dec = (cm.decimal_separator if cm and cm.decimal_separator else None) or p.decimal_separator
            thou = cm.thousands_separator if cm and cm.thousands_separator is not None else p.thousands_separator
            plain = dec == "." and not thou
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
        elif cm is not None and (cm.expr is not None or cm.number_within is not None
                                 or cm.after_supplier_terms is not None):
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
            dbl = _number(t, *_separators(p, cm))
            expr = _finite(dbl) if col.type == "dec" else _whole(dbl)
        elif col.type == "bool":
            expr = (f"CASE WHEN lower({t}) IN ('true', '1', 'yes', '1.0') THEN true "
                    f"WHEN lower({t}) IN ('false', '0', 'no', '0.0') THEN false END")
        else:  # pragma: no cover - the spec only has the types above
            raise AssertionError(col.type)
        out[col.name] = expr
    return out
