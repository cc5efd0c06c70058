"""`tandem kpis` (every KPI under every view) and `tandem bridge` (the gap step by step) as a table, JSON or CSV,
or the SQL they run (--explain): both ask the KPI engine, as every page does."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from cli.common import DbOption, EngineOption, LakeOption, app, engine_settings, err, errors, parse_where, wide
from kpi_definitions.periods import Grain
from reports import safe_text
from store.errors import FAILURE, USAGE, TandemError

if TYPE_CHECKING:  # `tandem --help` imports no DuckDB, polars or pydantic
    import polars as pl

    from kpi_definitions.compute import Query
    from kpi_definitions.engine import Engine, Request


Format = Literal["table", "json", "csv"]


@app.command()
def kpis(
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="YYYY-MM (or a quarter/year label)")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first month YYYY-MM of a range")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last month YYYY-MM of a range")] = None,
    grain: Annotated[Grain, typer.Option("--grain", help="month, quarter or year (fiscal)")] = "month",
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="a KPI name; repeat for several")] = None,
    by: Annotated[list[str] | None, typer.Option("--by", help="a dimension to split by; repeat")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE; repeat")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv")] = "table",
    explain: Annotated[bool, typer.Option("--explain", help="print the SQL each view and bridge would run, "
                                          "with its parameter values, instead of computing")] = False,
    as_defined_today: Annotated[bool, typer.Option("--as-defined-today", help="every period under the agreed "
                                                   "definition in effect today (default: the version effective "
                                                   "then)")] = False,
    engine_: EngineOption = None,
    lake: LakeOption = None,
) -> None:
    """Every KPI under both definitions, one row per KPI, view, period and combination of --by values, with the
    approved joint target of the row's period and slice, its run-rate forecast and status (null without one)."""
    import polars as pl

    from decisions import targets
    from reports import source
    from store.config import settings

    with errors(), engine_settings(engine_, lake):
        cfg = settings()
        with source.engine(db or cfg.db) as engine:
            req = _request(engine, period, from_, to, grain, kpi, by, parse_where(where), as_defined_today)
            if explain:
                _print_explain(engine.explain(req), fmt)
                return
            answer = engine.values(req)
            values = targets.attach(answer.frame, source.targets_of(engine, db or cfg.db), grain, req.by,
                                    req.filter_map())
        if kpi:  # `--kpi budget_variance_pct` asks for the companion alone, `--kpi budget_variance` for both
            asked = set(kpi) | {c.name for k in engine.reg for c in k.companions if k.name in kpi}
            values = values.filter(pl.col("kpi").is_in(sorted(asked)))
        for note in answer.notes:
            err.print(safe_text.visible(f"note: {note}"), highlight=False, markup=False)
        _print_kpis(values, req.by, fmt, cfg.reporting_currency)


def _request(engine: Engine, period: str | None, from_: str | None, to: str | None, grain: Grain,
             kpi: list[str] | None, by: list[str] | None, filters: dict[str, list[str]],
             as_defined_today: bool) -> Request:
    """The engine's request for a command's options, or one sentence saying which option is wrong."""
    from datetime import date

    from kpi_definitions.registry import DIMENSIONS

    reg = engine.reg
    wanted = list(dict.fromkeys(reg.kpi_of(k) or k for k in kpi or []))
    for name in wanted:
        if name not in reg.names:
            known = reg.names + [c.name for k in reg for c in k.companions]
            raise TandemError(f"Unknown KPI {name!r}; known: {', '.join(known)}.", USAGE)
    dims = tuple(dict.fromkeys(by or []))
    for dim in dims:
        if dim not in DIMENSIONS:
            raise TandemError(f"Unknown dimension {dim!r}; known: {', '.join(DIMENSIONS)}.", USAGE)
    data = engine.data_months()
    try:
        return engine.request(period=period, start=from_, end=to, grain=grain, data=data, kpis=wanted or None,
                              by=dims, filters=filters, as_defined_today=date.today() if as_defined_today else None)
    except ValueError as exc:
        raise TandemError(f"{exc}.", USAGE if data else FAILURE) from None


def _print_explain(queries: list[Query], fmt: str) -> None:
    """The queries `kpis` would run: SQL text after the macros they use, or (json) label, sql and params."""
    from kpi_definitions import macros

    if fmt == "json":
        doc = {"macros": macros.text(), "queries": [{"label": q.label, "sql": q.sql, "params": q.params}
                                                    for q in queries]}
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
        return
    sys.stdout.write("-- The macros every KPI query uses (created on the connection first)\n" + macros.text() + "\n")
    for q in queries:
        sys.stdout.write("\n" + q.text())


def _print_kpis(values: pl.DataFrame, dims: tuple[str, ...], fmt: str, currency: str) -> None:
    """The KPI rows as JSON (numbers or null, never NaN/Infinity), CSV (text that cannot run in a
    spreadsheet, CR/LF quoted) or a table (data printed as text, never as Rich markup)."""
    import polars as pl

    from reports import formats

    rows = values.to_dicts()
    unreal = sum(1 for r in rows if r["value"] is not None and formats.json_number(r["value"]) is None)
    if unreal:
        err.print(f"note: {unreal} value(s) are not finite numbers (data that bypassed ingestion's ranges?); "
                  "shown as null / n/a.", highlight=False, markup=False)
    if fmt == "json":
        doc = [{"kpi": r["kpi"], "view": r["view"], "period": r["period"], "dimensions": {d: r[d] for d in dims},
                "value": formats.json_number(r["value"]), "unit": r["unit"],
                "excluded": _weak(r)["excluded"], "warnings": _weak(r)["warnings"]}
               | {c: formats.json_number(r[c]) if c != "status" else r[c] for c in TARGET_COLUMNS if c in r}
               for r in rows]
        sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    elif fmt == "csv":
        # polars quotes a field with a separator, quote, LF or a bare CR; the csv module with lineterminator
        # "\n" leaves a bare CR unquoted, which splits the row in a spreadsheet.
        extra = [c for c in TARGET_COLUMNS if c in values.columns]
        header = ["kpi", "view", "period", *dims, "value", "unit", "excluded", "warnings", *extra]
        cols: list[list[object]] = [[r["kpi"] for r in rows], [r["view"] for r in rows], [r["period"] for r in rows],
                                    *([r[d] for r in rows] for d in dims)]
        text = [[_csv_text(None if v is None else str(v)) for v in col] for col in cols]
        numbers = [None if (v := formats.json_number(r["value"])) is None else repr(v) for r in rows]
        targets = [[None if (v := formats.json_number(r[c]) if c != "status" else r[c]) is None else
                    (v if c == "status" else repr(v)) for r in rows] for c in extra]
        doc = pl.DataFrame([pl.Series(f"c{i}", col, dtype=pl.String) for i, col in
                            enumerate([*text, numbers, [_csv_text(r["unit"]) for r in rows],
                                       [str(r.get("excluded") or 0) for r in rows],
                                       [_csv_text(_weak(r)["warnings_text"]) for r in rows], *targets])])
        sys.stdout.write(doc.rename(dict(zip(doc.columns, map(str, map(_csv_text, header)), strict=True)))
                         .write_csv(line_terminator="\n"))
    else:
        table = Table(title="KPIs", title_justify="left")
        for col in ("kpi", "view", "period", *dims):
            table.add_column(safe_text.rich(col))
        table.add_column("value", justify="right")
        targeted = "target" in values.columns and values["target"].null_count() < values.height
        if targeted:  # only when a row has an approved target: the table stays as narrow as it was
            table.add_column("target", justify="right")
            table.add_column("forecast", justify="right")
            table.add_column("status")
        table.add_column("warnings")
        for r in rows:
            more = [formats.value(r["target"], r["unit"], currency) if r["target"] is not None else "",
                    formats.value(r["forecast"], r["unit"], currency) if r["forecast"] is not None else "",
                    r["status"] or ""] if targeted else []
            table.add_row(*map(safe_text.rich, (r["kpi"], r["view"], r["period"], *(r[d] for d in dims))),
                          safe_text.rich(formats.value(r["value"], r["unit"], currency)), *map(safe_text.rich, more),
                          safe_text.rich(", ".join(w["code"] for w in r.get("warnings") or [])))
        wide(table)
        said = dict.fromkeys(f"{w['code']}: {w['message']}" for r in rows for w in r.get("warnings") or [])
        for line in said:
            err.print(safe_text.visible(f"warning: {line}"), highlight=False, markup=False)


def _weak(row: dict) -> dict:
    """A row's `excluded` count and `warnings` ({code, message} each) for JSON; `warnings_text` for a CSV cell."""
    found = [{"code": w["code"], "message": w["message"]} for w in row.get("warnings") or []]
    return {"excluded": int(row.get("excluded") or 0), "warnings": found,
            "warnings_text": " | ".join(f"{w['code']}: {w['message']}" for w in found)}


TARGET_COLUMNS = ("target", "forecast", "status")  # decisions/targets.py attach(): the approved joint target's


def _csv_text(v: object) -> object:
    """A CSV cell of `tandem kpis`: text visible and inert in a spreadsheet (numbers as they are)."""
    return safe_text.cell(safe_text.visible(v))


@app.command()
def bridge(
    kpi: Annotated[str, typer.Option("--kpi", help="the KPI whose bridge to show")],
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="YYYY-MM (or a quarter/year label)")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first month YYYY-MM of a range")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last month YYYY-MM of a range")] = None,
    grain: Annotated[Grain | None, typer.Option("--grain", help="month, quarter or year (fiscal; default: the "
                                                "period's own, 2026-Q3 a quarter)")] = None,
    by: Annotated[list[str] | None, typer.Option("--by", help="a dimension to split by; repeat")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE; repeat")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv")] = "table",
    explain: Annotated[bool, typer.Option("--explain", help="print the SQL it would run instead")] = False,
    engine_: EngineOption = None,
    lake: LakeOption = None,
) -> None:
    """A KPI's bridge as data: its start view's value, each step (and each part of a netted step) and its end
    view's value, per period and per value of --by, from the same engine as `tandem kpis`."""
    from reports import source
    from store.config import settings

    with errors(), engine_settings(engine_, lake):
        cfg = settings()
        with source.engine(db or cfg.db) as engine:
            req = _request(engine, period, from_, to, grain or _grain_of(period), [kpi], by, parse_where(where), False)
            if engine.reg[req.kpis[0]].bridge is None:  # type: ignore[index]
                with_bridge = [k.name for k in engine.reg if k.bridge is not None]
                raise TandemError(f"{kpi} declares no bridge; KPIs with one: {', '.join(with_bridge)}.", USAGE)
            if explain:
                _print_explain(engine.explain(req.but(kpis=req.kpis), bridges=True), fmt)
                return
            steps = engine.bridges(req)
        _print_bridge(steps, req.by, fmt, cfg.reporting_currency)


def _grain_of(period: str | None) -> Grain:
    """The grain a period label names: 2026-Q3 a quarter, 2026 or FY2026 a year, anything else a month."""
    if period and "-Q" in period.upper():
        return "quarter"
    if period and (period.isdigit() or period.upper().startswith("FY")):
        return "year"
    return "month"


def _print_bridge(steps: pl.DataFrame, dims: tuple[str, ...], fmt: str, currency: str) -> None:
    """Bridge rows as JSON (numbers or null), CSV (text inert in a spreadsheet) or a table."""
    from reports import formats

    rows = steps.to_dicts()
    if fmt == "json":
        doc = [{"kpi": r["kpi"], "period": r["period"], "dimensions": {d: r[d] for d in dims}, "kind": r["kind"],
                "name": r["name"], "label": r["label"], "part_of": r["part_of"],
                "value": formats.json_number(r["value"]), "unit": r["unit"],
                "warnings": [{"code": w["code"], "message": w["message"]} for w in r.get("warnings") or []]}
               for r in rows]
        sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    elif fmt == "csv":
        import polars as pl

        header = ["kpi", "period", *dims, "kind", "name", "label", "part_of", "value", "unit", "warnings"]
        cols = [[_csv_text(None if r[c] is None else str(r[c])) for r in rows] for c in header[:-3]]
        cols.append([None if (v := formats.json_number(r["value"])) is None else repr(v) for r in rows])
        cols.append([_csv_text(r["unit"]) for r in rows])
        cols.append([_csv_text(_weak(r)["warnings_text"]) for r in rows])
        doc = pl.DataFrame([pl.Series(h, c, dtype=pl.String) for h, c in zip(header, cols, strict=True)])
        sys.stdout.write(doc.write_csv(line_terminator="\n"))
    else:
        table = Table(title="Bridge", title_justify="left")
        for col in ("kpi", "period", *dims, "step"):
            table.add_column(safe_text.rich(col))
        table.add_column("value", justify="right")
        for r in rows:
            label = r["label"] if r["kind"] != "part" else f"  ↳ {r['label']}"
            shown = (formats.value(r["value"], r["unit"], currency) if r["kind"] in ("start", "end")
                     else formats.signed(r["value"], r["unit"], currency))
            table.add_row(*map(safe_text.rich, (r["kpi"], r["period"], *(r[d] for d in dims), label)),
                          safe_text.rich(shown))
        wide(table)
        said = dict.fromkeys(f"{w['code']}: {w['message']}" for r in rows for w in r.get("warnings") or [])
        for line in said:
            err.print(safe_text.visible(f"warning: {line}"), highlight=False, markup=False)
