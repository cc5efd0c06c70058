"""Keep docs/contract.md current: its generated blocks (the export types, the KPIs and their views, the
commands) are written from the declarations the code runs on. `uv run python scripts/contract.py` rewrites
them; tests/test_contract.py fails when they are out of date, so a change to an export, a KPI or a command
changes the contract in the same commit."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "contract.md"
BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n).*?(<!-- end of generated: \2 -->)", re.S)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def exports() -> str:
    """One row per export type: columns (`?`: may be empty), key, row rules, rules across files, freshness."""
    from store.exports import EXPORT_TYPES, Consecutive, NeedsRate, Reference

    rows = ["| export | columns | key | row rules | across rows and files | dated by |", "|---|---|---|---|---|---|"]
    for t in EXPORT_TYPES.values():
        cols = ", ".join(f"{c.name} {c.type}{'?' if c.nullable else ''}" for c in t.columns)
        across = []
        for a in t.across:
            if isinstance(a, Reference):
                across.append(f"{', '.join(a.columns)} → {a.target} ({a.rule}{', quarantined' if a.strict else ''})")
            elif isinstance(a, Consecutive):
                across.append(f"{a.column} consecutive within {a.within} ({a.rule})")
            elif isinstance(a, NeedsRate):
                across.append(f"{a.currency} needs an fx_rates row for the month of {a.month_of}")
        rows.append(f"| **{t.name}**<br>{_cell(t.description)} | {_cell(cols)} | {', '.join(t.key)} | "
                    f"{_cell('; '.join(r.name for r in t.rules)) or '—'} | {_cell('; '.join(across)) or '—'} | "
                    f"{t.dated or '—'} |")
    return "\n".join(rows) + "\n"


def kpis() -> str:
    """Each KPI with its unit and dimensions, every view's definition (owner, version, effective date) and its
    bridge's steps."""
    from kpi_definitions.registry import registry

    out: list[str] = []
    for k in registry():
        out += [f"### {k.label} (`{k.name}`)", "", _cell(k.description), "",
                f"Unit: {k.unit} ({k.better} is better). Dimensions: {', '.join(k.dimensions)}."
                + (f" Also reported: {', '.join(f'`{c.name}` ({c.label}, {c.unit})' for c in k.companions)}."
                   if k.companions else ""), "",
                "| view | definition | owner | version | effective |", "|---|---|---|---|---|"]
        for name, v in k.views.items():
            out.append(f"| {name} | {_cell(v.definition)} | {_cell(v.owner)} | {v.version} | {v.effective_date} |")
        if k.bridge is not None:
            b = k.bridge
            out += ["", f"Bridge from {b.from_view} to {b.to_view}, step by step (the steps add up to the gap "
                    "exactly):", ""]
            for s in b.steps:
                out.append(f"- **{_cell(s.label)}** (`{s.name}`): {_cell(s.description)}")
                out += [f"  - {_cell(p.label)} (`{p.name}`): {_cell(p.description)}" for p in s.parts]
            if b.convention:
                out += ["", f"Convention: {_cell(b.convention)}"]
        out.append("")
    return "\n".join(out)


def commands() -> str:
    """Every command of `tandem` with its arguments and options, from the command line's own definition."""
    import typer

    from cli.main import app

    out: list[str] = []

    def walk(cmd, path: list[str]) -> None:  # noqa: ANN001 - typer's click command (typer may vendor click)
        ctx = type(cmd).context_class(cmd) if hasattr(type(cmd), "context_class") else None
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name])
            return
        args = " ".join((p.name or "").upper() + ("..." if p.nargs == -1 else "")
                        for p in cmd.params if p.param_type_name == "argument")
        out.append(f"- `tandem {' '.join(path)}{' ' + args if args else ''}`: "
                   f"{_cell((cmd.help or '').split(chr(10) * 2)[0])}")
        for p in cmd.params:
            if p.param_type_name == "option" and p.name != "help":
                shown, _ = p.get_help_record(ctx) or (", ".join(p.opts), "")
                shown = shown.replace("<list[str]>", "<str> (repeat)")
                out.append(f"  - `{_cell(shown)}`: {_cell(p.help or '')}")

    walk(typer.main.get_command(app), [])
    return "\n".join(out) + "\n"


GENERATORS = {"exports": exports, "kpis": kpis, "commands": commands}


def render(text: str) -> str:
    """The contract with each generated block rewritten from the code."""
    return BLOCK.sub(lambda m: m.group(1) + GENERATORS[m.group(2)]() + m.group(3), text)


def main() -> int:
    text = CONTRACT.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        CONTRACT.write_text(new, encoding="utf-8")
        print(f"updated {CONTRACT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
