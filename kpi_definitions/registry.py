"""The KPI registry: the YAML declarations in this folder, parsed into typed models and checked."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kpi_definitions import dialects as _dialects
from kpi_definitions import dimensions as _dimensions
from store.sql import Queries

PACKAGE = Path(__file__).parent
SQL_DIR = PACKAGE / "sql"
# Another folder of declarations (a registry with more views, a test registry) instead of this one's; the
# named SQL stays the bundled one. Read when the registry is loaded, so a process started with it set
# (`TANDEM_KPI_DIR=... tandem serve`) checks and shows that registry.
ENV_FOLDER = "TANDEM_KPI_DIR"
HERE = Path(os.environ.get(ENV_FOLDER) or PACKAGE)
# One pattern for every name a declaration introduces (KPIs, views, steps, bound columns): they end up
# as SQL identifiers and JSON keys, so nothing else may get through.
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# The slicing dimensions of the contract (section 3) plus the procurement savings split, declared once in
# kpi_definitions/dimensions.py.
DIMENSIONS: tuple[str, ...] = _dimensions.NAMES
FILTERABLE: tuple[str, ...] = _dimensions.FILTERABLE
REQUIRED_VIEWS: tuple[str, ...] = ("finance", "procurement")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Unit = Literal["currency", "days", "ratio"]
# The exports whose months bound what a view can compute (kpi_definitions/running.py): a month is covered when
# each of the view's sources holds a row in it; a period is computed over its covered months only.
Source = Literal["invoices", "purchase_orders", "inventory", "consumption"]
# A view's colour: a named colour Streamlit Markdown knows (`:blue[■]`) and the charts draw in. Never red or
# green: a view is not "good" or "bad". A view that declares none is gray.
Colour = Literal["blue", "orange", "violet", "gray"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Counted(_Model):
    """One version of an agreed definition made from the bridge: the bridge steps its value counts on top of
    the bridge's start view (kpi_definitions/agreement.py), in effect from its effective date."""

    version: int = Field(ge=1)
    effective_date: date
    counts: tuple[str, ...] = ()
    definition: str = Field(min_length=20)


class View(_Model):
    """One team's definition of a KPI: what it means in words, and the SQL that computes it."""

    definition: str = Field(min_length=20)
    sql: str
    lines: str | None = None  # the SQL listing the rows behind the value, for drill-down
    bind: dict[str, str] = {}
    owner: str = Field(min_length=2)
    version: str = Field(pattern=r"^\d+(\.\d+)*$")
    effective_date: date
    dimensions: tuple[str, ...] | None = None
    excluded: str = "rows with no FX rate for their month"
    # The warning code of those rows in `tandem kpis` (kpi_definitions/weak_data.py): missing_fx unless the
    # view also leaves rows out for another reason.
    excluded_code: str = Field(default="missing_fx", pattern=r"^[a-z][a-z0-9_]*$")
    # A view compared with the same months a year earlier: the export whose coverage of those base months
    # is checked (a partial base month is flagged on the value, kpi_definitions/weak_data.py).
    base_coverage: Literal["invoices", "purchase_orders"] | None = None
    # Its SQL reads the twelve months before the span too (year over year): only then are they fetched, so a
    # view of one month groups one month of lines, not thirteen (check() refuses SQL that reads them undeclared).
    year_before: bool = False
    # The exports the view's value is made of (a month none of them has reached yet is not a month of zero):
    # by default, any export (the database's months with data).
    sources: tuple[Source, ...] = ()
    label: str | None = Field(default=None, min_length=1, max_length=40)  # shown name; default: the name, capitalised
    colour: Colour = "gray"
    # An agreed view made from the bridge: its versions, each counting bridge steps (the value is computed
    # from the bridge's SQL, not from `sql`, which then names the start view's SQL for the drill-down).
    from_bridge: tuple[Counted, ...] = ()


class Companion(_Model):
    """A second number every view of a KPI reports (budget_variance_pct), read from its own column."""

    name: str
    column: str
    unit: Unit
    label: str


class Step(_Model):
    name: str
    label: str
    description: str
    # A netted step: its value is the sum of these parts (each a column of the bridge SQL too), drawn as one
    # bar while the table lists the parts (timing effects that offset each other, for example).
    parts: tuple[Step, ...] = ()


class Bridge(_Model):
    sql: str
    from_view: str = Field(alias="from")
    to_view: str = Field(alias="to")
    convention: str | None = None
    steps: tuple[Step, ...] = Field(min_length=1)

    @property
    def names(self) -> tuple[str, ...]:
        """Every column of the bridge SQL: each step's name and its parts' (all of them can be counted)."""
        return tuple(n for s in self.steps for n in (s.name, *(p.name for p in s.parts)))

    @property
    def labels(self) -> dict[str, str]:
        """Each step's label and each part's, which says what it is part of: "Orders not yet invoiced (part of
        Timing (net))"."""
        return {n: label for s in self.steps
                for n, label in ((s.name, s.label), *((p.name, f"{p.label} (part of {s.label})") for p in s.parts))}

    def overlaps(self, counts: Sequence[str]) -> list[tuple[str, str]]:
        """(netted step, part) pairs both in `counts`: the step already adds up its parts."""
        return [(s.name, p.name) for s in self.steps if s.name in counts for p in s.parts if p.name in counts]


class Kpi(_Model):
    name: str
    position: int = 100
    label: str
    icon: str = ":material/monitoring:"  # its page's icon in the navigation (a Material symbol or an emoji)
    description: str
    unit: Unit
    better: Literal["higher", "lower"]
    dimensions: tuple[str, ...]
    views: dict[str, View]
    companions: tuple[Companion, ...] = ()
    bridge: Bridge | None = None
    # The view gaps are taken from (gap = view − base): by default the bridge's `from` view, else the
    # view declared second.
    gap_base: str | None = None

    def view_dimensions(self, view: str) -> tuple[str, ...]:
        return self.views[view].dimensions or self.dimensions


@dataclass(frozen=True)
class Issue:
    """One thing wrong with a declaration: where, what, why."""

    file: str
    kpi: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kpi}: {self.field}: {self.message}"


class RegistryError(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("invalid KPI declarations:\n" + "\n".join(f"  {i}" for i in issues))


@dataclass(frozen=True)
class Registry:
    kpis: dict[str, Kpi]
    sql_dir: Path = SQL_DIR

    def __getitem__(self, name: str) -> Kpi:
        return self.kpis[name]

    def __iter__(self):  # registry order: by declared position
        return iter(self.kpis.values())

    @property
    def names(self) -> list[str]:
        return list(self.kpis)

    def kpi_of(self, name: str) -> str | None:
        """The KPI a name belongs to: itself, or the KPI that reports it as a companion."""
        if name in self.kpis:
            return name
        return next((k.name for k in self.kpis.values() for c in k.companions if c.name == name), None)

    def sql(self, name: str) -> str:
        return Queries(self.sql_dir)[name]


def parse(folder: Path = HERE, sql_dir: Path = SQL_DIR) -> tuple[Registry, list[Issue]]:
    """Every declaration in `folder`, and every issue found in them (nothing stops at the first)."""
    kpis: dict[str, Kpi] = {}
    issues: list[Issue] = []
    for path in sorted(folder.glob("*.yaml")):
        file = path.name
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            issues.append(Issue(file, "?", "(file)", f"not valid YAML: {str(exc).splitlines()[0]}"))
            continue
        if not isinstance(raw, dict):
            issues.append(Issue(file, "?", "(file)", "a declaration must be a mapping of fields"))
            continue
        name = str(raw.get("name", "?"))
        try:
            kpi = Kpi.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(file)"
                issues.append(Issue(file, name, where, err["msg"]))
            continue
        found = check(kpi, sql_dir)
        if kpi.name in kpis:
            found.append(Issue(file, kpi.name, "name", "declared twice"))
        issues += [Issue(file, i.kpi, i.field, i.message) for i in found]
        if not found:
            kpis[kpi.name] = kpi
    issues += _same_view_everywhere(kpis)
    companions = {c.name for k in kpis.values() for c in k.companions}
    for clash in sorted(companions & set(kpis)):
        issues.append(Issue("?", clash, "companions", "a companion has the name of a KPI"))
    ordered = dict(sorted(kpis.items(), key=lambda kv: (kv[1].position, kv[0])))
    return Registry(ordered, sql_dir), issues


YEAR_BEFORE = re.compile(r"[-+]\s*1[12]\b")  # month arithmetic a year back: m - 12, m + 12 IN ..., t - 11


def sql_code(sql: str) -> str:
    """SQL without its comments (a name or a parameter in a comment is not used)."""
    return re.sub(r"--[^\n]*", "", sql)


def check(kpi: Kpi, sql_dir: Path = SQL_DIR) -> list[Issue]:
    """What is wrong with one parsed declaration, beyond its field types."""
    issues: list[Issue] = []

    def bad(field: str, message: str) -> None:
        issues.append(Issue("", kpi.name, field, message))

    def named(field: str, value: str) -> None:
        if not NAME.match(value):
            bad(field, f"{value!r} is not a name (lower-case letters, digits and _, starting with a letter)")

    def sql_file(field: str, name: str, bound: set[str], all_used: bool = True) -> None:
        named(field, name)
        path = sql_dir / f"{name}.sql"
        if not path.is_file():
            bad(field, f"no SQL file {path.relative_to(sql_dir.parent)}")
            return
        text = path.read_text()
        unknown = sorted(_dialects.calls(text) - set(_dialects.FUNCTIONS))
        if unknown:
            bad(field, f"{name}.sql calls {', '.join('@' + u + '()' for u in unknown)}, which the SQL function library "
                "does not have (kpi_definitions/dialects/)")
        wanted = set(PLACEHOLDER.findall(text)) - {"dims"}
        for missing in sorted(wanted - bound):
            bad(field, f"{name}.sql uses {{{missing}}} but the declaration does not bind it")
        for extra in sorted(bound - wanted) if all_used else ():
            bad(field, f"binds {extra!r}, which {name}.sql does not use")

    named("name", kpi.name)
    for dim in kpi.dimensions:
        if dim not in DIMENSIONS:
            bad("dimensions", f"unknown dimension {dim!r} (known: {', '.join(DIMENSIONS)})")
    for missing in REQUIRED_VIEWS:
        if missing not in kpi.views:
            bad("views", f"no {missing} view: every KPI is declared under both definitions")
    for view_name, view in kpi.views.items():
        named(f"views.{view_name}", view_name)
        for key, column in view.bind.items():
            named(f"views.{view_name}.bind.{key}", column)
        sql_file(f"views.{view_name}.sql", view.sql, set(view.bind))
        if view.lines:
            sql_file(f"views.{view_name}.lines", view.lines, set(view.bind), all_used=False)
        for name in filter(None, (view.sql, view.lines)):
            path = sql_dir / f"{name}.sql"
            if not view.year_before and path.is_file() and YEAR_BEFORE.search(sql_code(path.read_text())):
                bad(f"views.{view_name}.year_before", f"{name}.sql reads months a year before the span: declare "
                    "`year_before: true`, or the query is given none of them")
        for dim in view.dimensions or ():
            if dim not in DIMENSIONS:
                bad(f"views.{view_name}.dimensions", f"unknown dimension {dim!r}")
        if view.from_bridge:
            steps = set(kpi.bridge.names) if kpi.bridge else set()
            if kpi.bridge is None:
                bad(f"views.{view_name}.from_bridge", "counts bridge steps, but the KPI declares no bridge")
            for counted in view.from_bridge:
                for step in counted.counts:
                    if kpi.bridge is not None and step not in steps:
                        bad(f"views.{view_name}.from_bridge", f"version {counted.version} counts {step!r}, "
                            "which is no step of the bridge")
    for comp in kpi.companions:
        named("companions.name", comp.name)
        named("companions.column", comp.column)
    if kpi.gap_base is not None and kpi.gap_base not in kpi.views:
        bad("gap_base", f"names no view of {kpi.name}: {kpi.gap_base!r}")
    if kpi.bridge:
        b = kpi.bridge
        sql_file("bridge.sql", b.sql, set())
        for end, view_name in (("from", b.from_view), ("to", b.to_view)):
            if view_name not in kpi.views:
                bad(f"bridge.{end}", f"names no view of {kpi.name}: {view_name!r}")
        seen: set[str] = set()
        for step in (s for top in b.steps for s in (top, *top.parts)):
            named("bridge.steps.name", step.name)
            if step.name in seen:
                bad("bridge.steps.name", f"step {step.name!r} declared twice")
            seen.add(step.name)
        for step in b.steps:
            if any(p.parts for p in step.parts):
                bad("bridge.steps.parts", f"a part of {step.name!r} has parts of its own: one level only")
            if len(step.parts) == 1:
                bad("bridge.steps.parts", f"{step.name!r} nets a single part: name at least two, or none")
    return issues


def _same_view_everywhere(kpis: dict[str, Kpi]) -> list[Issue]:
    """A view is one team's: it has one label and one colour on every KPI (blue is always the same team)."""
    seen: dict[str, tuple[str, str | None, str]] = {}
    issues: list[Issue] = []
    for kpi in kpis.values():
        for name, view in kpi.views.items():
            first = seen.setdefault(name, (kpi.name, view.label, view.colour))
            if (view.label, view.colour) != first[1:]:
                issues.append(Issue("?", kpi.name, f"views.{name}", f"label or colour differs from {first[0]}'s "
                                    f"{name} view: a view looks the same on every KPI"))
    return issues


def folder() -> Path:
    """The folder of the declarations in use: $TANDEM_KPI_DIR, else this package's."""
    return Path(os.environ.get(ENV_FOLDER) or HERE)


def registry() -> Registry:
    """The registry in use; raises with every issue when any declaration is invalid."""
    return _registry(folder())


@cache
def _registry(path: Path) -> Registry:
    reg, issues = parse(path, SQL_DIR)
    if issues:
        raise RegistryError(issues)
    return reg


registry.cache_clear = _registry.cache_clear  # type: ignore[attr-defined]
