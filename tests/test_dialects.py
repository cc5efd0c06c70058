"""The SQL function library per engine (kpi_definitions/dialects/): the template syntax, the library each engine must
provide, the view and bridge SQL calling it instead of one engine's words, and what each function means, checked
on every engine of tests/engines.py (the seven constructs that silently differ between DuckDB and Spark among
them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi_definitions import dialects
from kpi_definitions.dialects import FUNCTIONS, TemplateError, expand
from kpi_definitions.registry import SQL_DIR, registry
from tests.engines import ENGINES, Make, engine_on, spark_of


@pytest.mark.parametrize("name", ENGINES)
def test_each_engine_provides_the_whole_library(name: str) -> None:
    lib = dialects.dialect(name)
    assert [f for f in FUNCTIONS if not callable(getattr(lib, f, None))] == []
    assert callable(lib.param)


def test_calls_are_expanded_inside_out_and_comments_and_quotes_are_left_alone() -> None:
    text = ("SELECT @div(@month_ix(d), 2), '@month_ix(x)' AS s, @picked($category, coalesce(c, '(none)')) "
            "-- @div(a, b) in a comment\nFROM t")
    out = expand(text)
    assert out.startswith("SELECT (((year(d) * 12 + month(d) - 1)) / nullif(2, 0)), '@month_ix(x)' AS s, ")
    assert "list_contains($category::VARCHAR[], coalesce(c, '(none)'))" in out
    assert out.endswith("-- @div(a, b) in a comment\nFROM t")
    with pytest.raises(TemplateError, match="no function of the SQL library"):
        expand("SELECT @date_diff('day', a, b)")
    with pytest.raises(TemplateError, match="never closed"):
        expand("SELECT @div(a, b")
    with pytest.raises(ValueError, match="no SQL dialect 'oracle'"):
        dialects.dialect("oracle")


def test_a_declaration_calling_an_unknown_function_is_refused(tmp_path: Path) -> None:
    import shutil

    from kpi_definitions.registry import HERE, parse

    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    text = (sql / "payment_days.sql").read_text().replace("@div(sum(x.weighted), sum(x.amount))",
                                                          "@safe_divide(sum(x.weighted), sum(x.amount))")
    (sql / "payment_days.sql").write_text(text)
    _, issues = parse(HERE, sql)
    assert {(i.kpi, i.field, i.message) for i in issues} >= {
        ("payment_days", "views.finance.sql", "payment_days.sql calls @safe_divide(), which the SQL function library "
         "does not have (kpi_definitions/dialects/)")}


# What a KPI query may not say in one engine's words: it calls the library instead (kpi_definitions/dialects/).
ENGINE_WORDS = {
    r"\bdate_diff\b|\bdatediff\b|\bdate_sub\b|\bdate_add\b": "date arithmetic (@days_between, @month_ix)",
    r"\b(year|month|day|last_day|make_date|strftime|isodow|dayofweek|dayofmonth)\(": "calendar functions (@month_*)",
    r"\barg_m(in|ax)\b|\bm(in|ax)_by\b|\bfirst\(|\blast\(": "first/last value (@first_by, @last_by)",
    r"\blist\(|\bstring_agg\b|\barray_agg\b|\bcollect_list\b": "ordered lists (@join_sorted)",
    r"/": "division (@div: NULL on a zero, never an error or infinity)",
    r"::|\bunnest\b|\blist_\w+|\bhash\(": "one engine's casts, lists and hashes (@rows, @picked, @hash)",
    r"\bEXCLUDE\b|\bBY NAME\b|\bMATERIALIZED\b|\bQUALIFY\b": "DuckDB-only syntax",
}


def _code(text: str) -> str:
    """The SQL without its comments and quoted literals."""
    code = re.sub(r"'[^']*'", "''", "\n".join(line.split("--")[0] for line in text.splitlines()))
    return re.sub(r"@\w+\(", "@(", code)  # the library's calls are what it should say


def kpi_sql() -> list[str]:
    """Every SQL file a KPI request runs: views, bridges, lines, the shared relations, coverage, prices."""
    reg = registry()
    names = {"base", "coverage", "source_months", "data_months_facts", "market_levels", "market_change",
             "price_levels", "price_outlook"}
    for kpi in reg:
        for view in kpi.views.values():
            names |= {view.sql, *([view.lines] if view.lines else [])}
        if kpi.bridge:
            names.add(kpi.bridge.sql)
    return sorted(names)


@pytest.mark.parametrize("name", kpi_sql())
def test_kpi_sql_says_nothing_in_one_engines_words(name: str) -> None:
    code = _code((SQL_DIR / f"{name}.sql").read_text())
    found = {why for pattern, why in ENGINE_WORDS.items() for _ in re.finditer(pattern, code, re.IGNORECASE)}
    assert found == set(), f"{name}.sql"


# --- what each function means, on every engine ----------------------------------------------------------------

@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, golden_db: Path) -> Iterator[Make]:
    with engine_on(request.param, golden_db, spark_of(request)) as make:
        yield make


def value(make: Make, expression: str, source: str = "", params: dict | None = None) -> object:
    e = make()
    sql = expand(f"SELECT {expression} AS v {source}", e.lib)
    return e.run(sql, params).row(0)[0]


# (expression, FROM ..., expected): each a case where two engines' own words give two numbers
MEANINGS = [
    # whole days, not boundaries crossed: DuckDB's date_diff('day') and Spark's datediff agree on dates but not
    # on timestamps, and date_diff('month') counts month boundaries where Spark counts whole months
    ("@days_between(DATE '2026-01-31', DATE '2026-03-01')", "", 29),
    ("@seconds_between(TIMESTAMP '2026-01-01 23:59:59', TIMESTAMP '2026-01-02 00:00:01')", "", 2),
    ("@epoch_seconds(TIMESTAMP '1970-01-02 00:00:00')", "", 86400),
    # an instant's UTC month, whatever the offset it was written with: 00:30 at +02:00 on April 1st is March 31st
    # {instant}: an instant written with an offset, in each engine's own words for one (INSTANT below)
    ("@month_ix(@utc({instant}))", "", 2026 * 12 + 2),
    ("@text(CAST(@utc({instant}) AS DATE))", "", "2026-03-31"),
    # the continuous quantile, interpolated between the two middle values (0.5 of 1, 2, 10, 20 is 6)
    ("@quantile(x, 0.5)", "FROM (VALUES (1), (2), (10), (20)) t(x)", 6.0),
    ("@quantile(x, 0.9)", "FROM (VALUES (1), (2), (10), (20)) t(x)", 17.0),
    ("@month_ix(DATE '2026-03-31')", "", 2026 * 12 + 2),
    ("@month_label(2026 * 12 + 2)", "", "2026-03"),
    ("@month_start(2024 * 12 + 1)", "", "2024-02-01"),
    ("@days_in_month(2024 * 12 + 1)", "", 29),  # a leap February
    # day of week: Monday 1 .. Sunday 7 (DuckDB's dayofweek says 0 for Sunday, Spark's dayofweek 1)
    ("@iso_dow(DATE '2026-03-01')", "", 7),
    ("@iso_dow(DATE '2026-03-02')", "", 1),
    # the first and last value ignoring NULLs (DuckDB's arg_min skips them, Spark's min_by does not)
    ("@first_by(x, k)", "FROM (VALUES (NULL, 1), (5, 2), (7, 3)) t(x, k)", 5),
    ("@last_by(x, k)", "FROM (VALUES (4, 1), (5, 2), (NULL, 3)) t(x, k)", 5),
    # an ordered list keeps its order
    ("@join_sorted(x, ', ')", "FROM (VALUES ('b'), ('c'), ('a')) t(x)", "a, b, c"),
    # a division by zero is NULL (Spark 4 in ANSI mode raises, DuckDB gives infinity)
    ("@div(1.0, 0)", "", None),
    ("@div(1.0, NULL)", "", None),
    ("@div(3.0, 2)", "", 1.5),
    ("@rep_rate('EUR', 0.9, 'EUR')", "", 1),
    ("@rep_rate('USD', 0.9, 'EUR')", "", 0.9),
    ("@rep_rate('USD', NULL, 'EUR')", "", None),
    ("@same(NULL, NULL)", "", True),
    ("@same('a', NULL)", "", False),
    ("@text(42)", "", "42"),
    ("@hash('S1', 'X1') = @hash('S1', 'X1') AND @hash('S1', 'X1') <> @hash('S1', 'X2')", "", True),
]


# An instant with an offset as each engine writes one: DuckDB's TIMESTAMPTZ (what the store keeps), Spark's
# TIMESTAMP (an instant in the session's zone, UTC). DuckDB's plain TIMESTAMP literal would drop the offset.
INSTANT = {"duckdb": "CAST('2026-04-01 00:30:00+02:00' AS TIMESTAMPTZ)", "spark": "TIMESTAMP '2026-04-01 00:30:00+02:00'"}


@pytest.mark.parametrize(("expression", "source", "expected"), MEANINGS, ids=[m[0] for m in MEANINGS])
def test_each_function_means_the_same_on_every_engine(engine: Make, expression: str, source: str,
                                                      expected: object) -> None:
    expression = expression.replace("{instant}", INSTANT[engine().lib.NAME])
    got = value(engine, expression, source)
    if isinstance(expected, float):  # a decimal literal may come back as a decimal
        assert float(got) == pytest.approx(expected)  # type: ignore[arg-type]
    else:
        assert (str(got) if isinstance(expected, str) else got) == expected


def test_a_filter_and_the_rows_of_parameter_lists(engine: Make) -> None:
    assert value(engine, "@picked($sel, 'IT')", params={"sel": None}) is True  # no filter: every value
    assert value(engine, "@picked($sel, 'IT')", params={"sel": ["IT", "LOG"]}) is True
    assert value(engine, "@picked($sel, 'OTH')", params={"sel": ["IT", "LOG"]}) is False
    e = engine()
    rows = e.run(expand("SELECT * FROM (@rows($m AS m INTEGER, $p AS period VARCHAR)) ORDER BY m", e.lib),
                 {"m": [3, 1, 2], "p": ["c", "a", "b"]})
    assert rows.rows() == [(1, "a"), (2, "b"), (3, "c")]
    fx = e.run(expand("SELECT currency, m, rate FROM @fx_monthly() ORDER BY m", e.lib))
    assert fx.rows()[0] == ("USD", 2025 * 12, 0.9)  # tests/golden/exports/fx_rates.csv
