"""Source mappings, the model: YAML files that say how one source system's exports become the canonical
columns (where each column comes from, how its text is read, which rows are left out), validated into
pydantic models with one sentence per problem; and the writer that turns a mapping back into YAML through a
serializer. Compiling a mapping into SQL for a file's header is pipelines/compile.py."""

from __future__ import annotations

import codecs
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from store.errors import USAGE, TandemError
from store.exports import EXPORT_TYPES

MAPPINGS_DIR = Path(__file__).parent / "mappings"
MAX_PREAMBLE = 50  # lines above a header: a title, an export date, a few notes (the loader looks this far)


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
    # Money written with its currency (`$129,348.42`, `1.317.169,92 €`, `1,317,169.92 CAD`): symbols read
    # before or after a number, with or without a space; with `currency_codes` a three-letter code there
    # too, which must agree with the row's currency (a row where it does not is quarantined).
    currency_symbols: list[str] = Field(default_factory=list)
    currency_codes: bool = False

    @field_validator("date_format", "period_format", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("currency_symbols", mode="before")
    @classmethod
    def _symbols(cls, v: Any) -> Any:
        return _texts(v)

    @field_validator("decimal_separator", "thousands_separator")
    @classmethod
    def _separator(cls, v: str) -> str:
        return _one_separator(v)


def _one_separator(v: str) -> str:
    if len(v) > 1:
        raise ValueError(f"a separator is one character, not {v!r}")
    if v.isdigit():
        raise ValueError(f"a digit cannot separate digits ({v!r})")
    return v


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
    currency_symbols: list[str] | None = None
    currency_codes: bool | None = None

    @field_validator("currency_symbols", mode="before")
    @classmethod
    def _symbols(cls, v: Any) -> Any:
        return _texts(v)

    @field_validator("decimal_separator", "thousands_separator")
    @classmethod
    def _separator(cls, v: str | None) -> str | None:
        return None if v is None else _one_separator(v)

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
    encoding: str | None = None  # the files' text encoding (`tandem mapping draft` writes what it found)
    delimiter: str | None = None
    # A preamble above the header (a title line, an export date): skip that many lines, or name the line
    # the header is on (1 is the first line). Without either, the loader looks for the header itself.
    skip_rows: int | None = Field(default=None, ge=0, le=MAX_PREAMBLE)
    header_row: int | None = Field(default=None, ge=1, le=MAX_PREAMBLE + 1)
    sheet: str | None = None  # the workbook sheet to read (default: the first one)
    trim: bool = True
    empty: list[str] = Field(default_factory=list)  # texts read as an empty cell everywhere (`N/A`, `-`)
    parsing: Parsing = Field(default_factory=Parsing)
    exports: dict[str, ExportMapping] = Field(default_factory=dict)

    @field_validator("empty", mode="before")
    @classmethod
    def _empty(cls, v: Any) -> Any:
        return _texts(v)

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str | None) -> str | None:
        problem = None if v is None else delimiter_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f"unknown encoding {v!r}; try utf-8, cp1252, latin-1 or utf-16") from None
        return v

    @field_validator("exports")
    @classmethod
    def _known_types(cls, v: dict[str, ExportMapping]) -> dict[str, ExportMapping]:
        unknown = sorted(set(v) - set(EXPORT_TYPES))
        if unknown:
            raise ValueError(f"unknown export type(s) {', '.join(unknown)}; expected {', '.join(EXPORT_TYPES)}")
        return v

    @model_validator(mode="after")
    def _one_header_setting(self) -> Mapping:
        if self.skip_rows is not None and self.header_row is not None \
                and self.header_row != self.skip_rows + 1:
            raise ValueError("give skip_rows or header_row, not both (header_row is skip_rows + 1)")
        return self

    @property
    def header_line(self) -> int | None:
        """The line the header is on when the mapping says (skip_rows or header_row), else None."""
        if self.header_row is not None:
            return self.header_row
        return None if self.skip_rows is None else self.skip_rows + 1

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


def delimiter_problem(d: str) -> str | None:
    """What is wrong with a delimiter (None: nothing): one character that is not a letter, digit, quote or
    line end. A sentence, never Python's own TypeError text."""
    if len(d) != 1:
        return f"a delimiter is one character, not {'nothing' if not d else f'{len(d)} characters ({d!r})'}"
    if d in "\r\n\"" or d.isalnum():
        return f"{d!r} cannot separate cells (a letter, digit, quote or line end); use , ; | or a tab"
    return None


def check_delimiter(d: str | None, where: str = "--delimiter") -> str | None:
    """The delimiter if it can separate cells, else a TandemError naming `where` it was given."""
    problem = None if d is None else delimiter_problem(d)
    if problem:
        raise TandemError(f"{where}: {problem}.", USAGE)
    return d


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




# --- writing a mapping: through the YAML serializer, never by joining text --------------------------------

LINE_BREAKS = ("\r\n", "\r", "\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _flow(value: Any) -> str:
    """One value as one line of YAML, by PyYAML: its own style where that is one line, else every scalar
    double-quoted with escapes (a cell with line breaks stays one line and reads back the same)."""
    scalar = not isinstance(value, dict | list)
    node = [value] if scalar else value  # a scalar alone gets PyYAML's document-end marker: dump it in a list
    text = yaml.safe_dump(node, default_flow_style=True, allow_unicode=True, width=math.inf, sort_keys=False)
    if text.count("\n") > 1:
        text = yaml.safe_dump(node, default_flow_style=True, allow_unicode=True, width=math.inf, sort_keys=False,
                              default_style='"')
    text = text.rstrip("\n")
    return text[1:-1] if scalar else text


def one_line(text: str) -> str:
    """Text for a comment: every line break shown as ⏎, so no data can begin a line of YAML of its own."""
    for br in LINE_BREAKS:
        text = text.replace(br, "⏎")
    return text


def yaml_text(data: dict[str, Any], comments: dict[tuple[str, ...], list[str]] | None = None,
              head: list[str] | tuple[str, ...] = (), flow_below: int = 4) -> str:
    """`data` as YAML with comment lines: `head` on top, `comments[path]` above the key at `path`.

    Mappings nest in block style down to depth `flow_below`, each value below on one line in flow style
    (`amount: {from: Betrag, decimal_separator: ','}`). Every key and value goes through PyYAML; comments
    are made one line. The text is read back and must equal `data`: a mapping that would say something
    else than was meant is never written.
    """
    comments = comments or {}
    out = [f"# {one_line(c)}" for c in head]

    def emit(node: dict[str, Any], path: tuple[str, ...]) -> None:
        pad = "  " * len(path)
        for key, value in node.items():
            here = (*path, key)
            out.extend(f"{pad}# {one_line(c)}" for c in comments.get(here, []))
            k = _flow(key)
            if isinstance(value, dict) and value and len(here) < flow_below:
                out.append(f"{pad}{k}:")
                emit(value, here)
            else:
                out.append(f"{pad}{k}: {_flow(value)}")

    emit(data, ())
    text = "\n".join(out) + "\n"
    if yaml.safe_load(text) != data:  # pragma: no cover - a serializer bug, never data
        raise AssertionError("the YAML written does not read back as the mapping meant")
    return text
