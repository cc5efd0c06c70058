"""Computed columns: a small expression language of source columns, numbers, text, + - * / and parentheses,
`concat(...)`, `date(year, month, day)` and `add_days(date, days)`, tokenized, parsed and compiled to SQL. Never Python eval.

    line_value / quantity            a number from numbers
    concat(Invoice, '-', Line)       text from text
    date(Year, Month, 1)             a date from its parts
    add_days(InvoiceDate, 30)        a date a number of days later (a due date from agreed terms)
    "Line Item Value" * 1.2          a column name with spaces or other characters, in double quotes

A name is a source column of the file (matched after trimming and lower-casing, as everywhere in a mapping);
anything else (an unknown name, function or character) is an error that says what is allowed. The SQL
quotes every column name and makes every step safe: a cell that is not a number, a division by zero or
an impossible date gives NULL (an empty cell, then reported by the column's rules), never an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from store.errors import USAGE, TandemError
from store.sqltext import literal

FUNCTIONS = ("concat", "date", "add_days")
# Bounds that keep a mapping's expression cheap to check and to run: each column name expands to SQL of a
# few hundred characters, so a 240,000-character sum once took 27 s and 3.6 GB to plan; nesting is parsed
# by recursion, which a thousand parentheses would exhaust.
MAX_LENGTH = 1_000  # characters
MAX_DEPTH = 32  # parentheses, function calls and signs inside one another
MAX_NAMES = 64  # column names read
_TOKEN = re.compile(r"""\s*(?:
    (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | "(?P<quoted>[^"]+)"
  | '(?P<text>[^']*)'
  | (?P<op>[-+*/(),])
)""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # number | name | text | op | end
    value: str
    at: int


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_LENGTH:
        raise TandemError(f"expression {_shown(source)} is {len(source):,} characters long, over the limit of "
                          f"{MAX_LENGTH:,}; compute the column in the export, or in steps.", USAGE)
    tokens, pos = [], 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        m = _TOKEN.match(source, pos)
        if m is None:
            raise ExprError(source, pos, "a column name, a number, 'text', + - * / ( ) , concat(...) or date(...)")
        kind = m.lastgroup or "op"
        value = m.group(kind)
        tokens.append(Token("name" if kind == "quoted" else kind, value, m.start(kind)))
        pos = m.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


def _shown(source: str) -> str:
    """An expression as a message shows it: quoted, its start only when it is long."""
    return repr(source if len(source) <= 60 else source[:60] + "…")


class ExprError(TandemError):
    def __init__(self, source: str, at: int, expected: str) -> None:
        super().__init__(f"expression {_shown(source)}, at character {at + 1}: expected {expected}.", USAGE)


class TooDeep(TandemError):
    def __init__(self, source: str, at: int) -> None:
        super().__init__(f"expression {_shown(source)}, at character {at + 1}: nested more than {MAX_DEPTH} deep "
                         "(parentheses, functions or signs inside one another); write it with fewer levels.", USAGE)


@dataclass(frozen=True)
class Node:
    """A parsed expression: its SQL and whether it is a number (DOUBLE) or text (VARCHAR)."""

    sql: str
    kind: str  # number | text | date (ISO text)
    column: str | None = None  # the source column a bare name reads


class _Parser:
    def __init__(self, source: str, column: Callable[[str], tuple[str, str]],
                 date: Callable[[str], str] | None = None) -> None:
        self.source, self.tokens, self.i, self.column = source, tokenize(source), 0, column
        self.date = date or (lambda name: f"TRY_CAST({column(name)[0]} AS DATE)")
        self.depth = 0
        named = sum(1 for t in self.tokens if t.kind == "name")
        if named > MAX_NAMES:
            raise TandemError(f"expression {_shown(source)} reads {named} column names, over the limit of "
                              f"{MAX_NAMES}; compute the column in the export, or in steps.", USAGE)

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self, value: str | None = None) -> Token:
        t = self.tok
        if value is not None and t.value != value:
            raise ExprError(self.source, t.at, repr(value))
        self.i += 1
        return t

    def parse(self) -> Node:
        node = self.sum()
        if self.tok.kind != "end":
            raise ExprError(self.source, self.tok.at, "an operator + - * / or the end")
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.tok.kind == "op" and self.tok.value in "+-":
            op = self.take().value
            node = self.arith(node, op, self.product())
        return node

    def product(self) -> Node:
        node = self.factor()
        while self.tok.kind == "op" and self.tok.value in "*/":
            op = self.take().value
            node = self.arith(node, op, self.factor())
        return node

    def arith(self, a: Node, op: str, b: Node) -> Node:
        if a.kind != "number" or b.kind != "number":
            raise ExprError(self.source, self.tokens[self.i - 1].at,
                            f"numbers on both sides of {op!r} (join text with concat(...))")
        right = f"nullif({b.sql}, 0)" if op == "/" else b.sql
        return Node(f"({a.sql} {op} {right})", "number")

    def factor(self) -> Node:
        self.depth += 1  # every level of nesting passes here: a bound instead of Python's RecursionError
        try:
            if self.depth > MAX_DEPTH:
                raise TooDeep(self.source, self.tok.at)
            return self._factor()
        finally:
            self.depth -= 1

    def _factor(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.value == "-":
            self.take()
            inner = self.factor()
            if inner.kind != "number":
                raise ExprError(self.source, t.at, "a number after '-'")
            return Node(f"(- {inner.sql})", "number")
        if t.kind == "op" and t.value == "(":
            self.take()
            node = self.sum()
            self.take(")")
            return node
        if t.kind == "number":
            self.take()
            return Node(f"CAST({t.value} AS DOUBLE)", "number")
        if t.kind == "text":
            self.take()
            return Node(literal(t.value), "text")
        if t.kind == "name":
            self.take()
            if self.tok.value == "(" and self.tok.kind == "op":
                return self.call(t)
            text, number = self.column(t.value)
            return Node(number, "number") if number else Node(text, "text")
        raise ExprError(self.source, t.at, "a column name, a number, 'text' or '('")

    def call(self, name: Token) -> Node:
        fn = name.value.lower()
        if fn not in FUNCTIONS:
            raise ExprError(self.source, name.at, f"one of the functions {', '.join(FUNCTIONS)}")
        self.take("(")
        args = [self.arg()]
        while self.tok.value == "," and self.tok.kind == "op":
            self.take()
            args.append(self.arg())
        self.take(")")
        if fn == "concat":
            return Node("concat(" + ", ".join(_as_text(a) for a in args) + ")", "text")
        if fn == "add_days":
            if len(args) != 2:
                raise ExprError(self.source, name.at, "add_days(date, days): two arguments")
            start, days = args
            if start.column is not None:
                day = self.date(start.column)
            elif start.kind == "date":
                day = f"CAST(try_strptime({start.sql}, '%Y-%m-%d') AS DATE)"
            else:
                raise ExprError(self.source, name.at, "a date column or date(...) first in add_days")
            n = _as_number(days)
            return Node(f"CASE WHEN {n} = round({n}) AND abs({n}) < 100000 THEN "
                        f"strftime({day} + CAST({n} AS INTEGER), '%Y-%m-%d') END", "date")
        if len(args) != 3:
            raise ExprError(self.source, name.at, "date(year, month, day): three parts")
        parts = ", ".join(f"CAST({_as_number(a)} AS BIGINT)" for a in args)
        whole = " AND ".join(f"{_as_number(a)} = round({_as_number(a)})" for a in args)
        return Node(f"CASE WHEN {whole} THEN strftime(try(make_date({parts})), '%Y-%m-%d') END", "date")

    def arg(self) -> Node:
        # A bare column inside a function keeps both readings: text for concat, a number for date.
        t = self.tok
        if t.kind == "name" and self.tokens[self.i + 1].value in (",", ")"):
            self.take()
            text, _ = self.column(t.value)
            return Node(text, "text", t.value)
        return self.sum()


def _as_text(n: Node) -> str:
    return f"CAST({n.sql} AS VARCHAR)" if n.kind == "number" else n.sql


def _as_number(n: Node) -> str:
    return n.sql if n.kind == "number" else f"TRY_CAST({n.sql} AS DOUBLE)"


def names(source: str) -> list[str]:
    """The column names an expression reads (function names left out)."""
    toks = tokenize(source)
    return [t.value for i, t in enumerate(toks)
            if t.kind == "name" and not (toks[i + 1].value == "(" and t.value.lower() in FUNCTIONS)]


def compile_expr(source: str, column: Callable[[str], tuple[str, str]],
                 date: Callable[[str], str] | None = None) -> str:
    """The SQL giving the expression's value as text (NULL when it cannot be computed).

    `column(name)` gives a source column's SQL as (text, number): the cell's text and its value as a
    DOUBLE read with the mapping's decimal settings; `date(name)` its value as a DATE read with the
    mapping's date formats.
    """
    node = _Parser(source, column, date).parse()
    if node.kind == "number":
        return f"CAST(CASE WHEN isfinite({node.sql}) THEN {node.sql} END AS VARCHAR)"
    return node.sql
