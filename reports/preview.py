"""The agreed number before anyone signs: a proposal's bridge steps with their signed amounts, which of them the
agreed number includes, the agreed value in words, and that value over the last months beside both teams'.

The numbers come from the KPI layer (reports/source.py `agreed_preview`: the bridge, `agreement.value`, and the
KPI values under a registry holding the proposed version); this module only says them."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kpi_definitions import views
from kpi_definitions.compute import BridgeResult
from kpi_definitions.registry import Kpi
from reports import formats

INCLUDE, LEAVE_OUT = "Include in the agreed number", "Leave out"
MONTHS = 12  # the months the preview compares the agreed value with both teams' over


@dataclass(frozen=True)
class Step:
    """One bridge step (or a part of a netted step) as a proposal sees it."""

    name: str
    label: str
    value: float
    included: bool
    part_of: str | None = None  # a part: the label of the netted step it belongs to


@dataclass(frozen=True)
class Preview:
    """What an agreed definition counting `counts` makes of one period, and of the months up to it.

    `kpi` is the KPI with the proposed agreed view (its style and colour); `history` is compute()'s long
    table (period, view, value) of the bridge's two views and the agreed one over up to MONTHS months."""

    kpi: Kpi
    period: str
    counts: tuple[str, ...]
    bridge: BridgeResult
    agreed: float | None
    history: pl.DataFrame

    @property
    def reason(self) -> str | None:
        return self.bridge.reason

    @property
    def steps(self) -> list[Step]:
        """Every step in the bridge's order, each netted step followed by its parts (either can be included)."""
        out = []
        for s in self.bridge.steps:
            out.append(Step(s.name, s.label, s.value, s.name in self.counts))
            out += [Step(p.name, p.label, p.value, p.name in self.counts, s.label) for p in s.parts]
        return out

    @property
    def start_label(self) -> str:
        return views.style(self.kpi, self.bridge.start_view).word

    @property
    def end_label(self) -> str:
        return views.style(self.kpi, self.bridge.end_view).word


def formula(p: Preview, currency: str = "EUR") -> str:
    """The agreed value in words: "procurement's EUR 152,437, plus Volume change +EUR 985,117, plus … = EUR X"
    (nothing included: "procurement's value as it is")."""
    unit = p.kpi.unit
    if p.bridge.start is None:
        return f"No agreed value for {p.period}: {p.reason or 'the bridge has no start value'}."
    start = f"{p.start_label}'s {formats.value(p.bridge.start, unit, currency)}"
    chosen = [s for s in p.steps if s.included]
    if not chosen:
        return f"{start}, with no bridge step included: {p.start_label}'s value as it is."
    said = ", ".join(f"plus {s.label}{f' (part of {s.part_of})' if s.part_of else ''} "
                     f"{formats.signed(s.value, unit, currency)}" for s in chosen)
    return f"{start}, {said} = {formats.value(p.agreed, unit, currency)}"


def meaning(p: Preview) -> str:
    """What including a step means, in one sentence, with both ends named."""
    return (f"The agreed number starts from {p.start_label}'s value and includes the bridge steps you choose: "
            f"including every step gives {p.end_label}'s value, including none keeps {p.start_label}'s.")


def step_table(p: Preview, currency: str = "EUR") -> pl.DataFrame:
    """Each step with its signed amount and the choice made, as text for a page, the CLI or a pack."""
    unit = p.kpi.unit
    rows = [{"Step": (f"↳ {s.label}" if s.part_of else s.label), f"Amount ({p.period})":
             formats.signed(s.value, unit, currency), "Agreed number": "included" if s.included else "left out"}
            for s in p.steps]
    return pl.DataFrame(rows, schema={"Step": pl.String, f"Amount ({p.period})": pl.String,
                                      "Agreed number": pl.String})


def history_table(p: Preview, currency: str = "EUR") -> pl.DataFrame:
    """The agreed value beside both teams' values, month by month (latest last), formatted."""
    if not p.history.height:
        return pl.DataFrame()
    names = [p.bridge.start_view, p.bridge.end_view, "agreed"]
    wide = (p.history.filter(pl.col("view").is_in(names))
            .pivot(on="view", index="period", values="value", aggregate_function="first", maintain_order=True))
    unit = p.kpi.unit
    return wide.select(pl.col("period").alias("Month"), *[
        pl.col(v).map_elements(lambda x: formats.value(x, unit, currency), return_dtype=pl.String).fill_null("n/a")
        .alias(views.style(p.kpi, v).label) for v in names if v in wide.columns])
