"""The review pack as a PowerPoint deck (python-pptx): a title slide, the overview, one slide per KPI and the
open actions, 16:9. Text from the data goes into text frames as text (PowerPoint runs no formulas there)."""

from __future__ import annotations

import io

import plotly.graph_objects as go
import polars as pl
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from reports import decided, exports, pack, safe_text
from reports.pack import Pack
from reports.scope import Scope, stamp_lines

W, H = Emu(12192000), Emu(6858000)  # 13.333 × 7.5 in: PowerPoint's own 16:9
GREY = RGBColor(0x55, 0x55, 0x55)


def _png(fig: go.Figure) -> io.BytesIO:
    """The chart for half a slide: 960×540 CSS pixels (16:9, rendered at twice that), so its labels stay
    readable at half the slide's width."""
    out = go.Figure(fig)
    out.update_layout(width=960, height=540)
    return io.BytesIO(exports.image(out, "png"))


def _text(slide, left: Emu, top: Emu, width: Emu, height: Emu, lines: list[str], size: int = 14,  # noqa: ANN001
          bold_first: bool = False, colour: RGBColor | None = None) -> None:
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = safe_text.visible(line)
        run.font.size = Pt(size)
        run.font.bold = bold_first and i == 0
        if colour is not None:
            run.font.color.rgb = colour


def _title(slide, text: str) -> None:  # noqa: ANN001
    _text(slide, Inches(0.4), Inches(0.2), W - Inches(0.8), Inches(0.7), [text], size=26, bold_first=True)


def _table(slide, df: pl.DataFrame, left: Emu, top: Emu, width: Emu, size: int = 11) -> None:  # noqa: ANN001
    rows = min(df.height, 14)
    shape = slide.shapes.add_table(rows + 1, df.width, left, top, width, Inches(0.3) * (rows + 1))
    table = shape.table
    for j, c in enumerate(df.columns):
        table.cell(0, j).text = safe_text.visible(c)
    for i, row in enumerate(df.head(rows).iter_rows(), start=1):
        for j, v in enumerate(row):
            table.cell(i, j).text = safe_text.visible("" if v is None else str(v))
    for i in range(rows + 1):
        for j in range(df.width):
            for para in table.cell(i, j).text_frame.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(size)


def _stamp(slide, lines: list[str]) -> None:  # noqa: ANN001
    _text(slide, Inches(0.4), H - Inches(0.75), W - Inches(0.8), Inches(0.6), lines, size=10, colour=GREY)


def _agreements_slide(prs, p: Pack) -> None:  # noqa: ANN001
    """Agreed definitions and joint targets, agreed, approved or pending, with the unverified mark (none: no slide)."""
    if not p.agreements.height:
        return
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _title(slide, "Agreements and joint targets")
    shown = p.agreements.select("What", "KPI", "Status", "Detail", "Proposed by", "Approved / decided by")
    _table(slide, shown, Inches(0.4), Inches(1.0), W - Inches(0.8), size=10)
    more = [f"… and {shown.height - 14} more"] if shown.height > 14 else []
    unverified = ["Records made without login (local mode) are marked unverified."] if (
        p.agreements["Identity"] == "unverified").any() else []
    if more or unverified:
        _text(slide, Inches(0.4), H - Inches(1.2), W - Inches(0.8), Inches(0.4), more + unverified, size=11)


def build(p: Pack) -> bytes:

    prs = Presentation()
    prs.slide_width, prs.slide_height = W, H
    blank = prs.slide_layouts[6]
    sel = p.sel

    slide = prs.slides.add_slide(blank)
    _text(slide, Inches(0.8), Inches(2.4), W - Inches(1.6), Inches(2.5),
          [p.title, f"{sel.span.label} ({sel.grain}) · {sel.filter_text()}", sel.as_of_text()], size=20,
          bold_first=True)

    slide = prs.slides.add_slide(blank)
    _title(slide, f"Overview · {sel.span.label}")
    _table(slide, p.overview, Inches(0.4), Inches(1.0), W - Inches(0.8), size=10)
    slide.shapes.add_picture(_png(p.overview_shot.fig), Inches(3.2), Inches(3.4), height=Inches(3.3))
    _stamp(slide, stamp_lines(sel, None, "Overview")[:2] + stamp_lines(sel, None, "")[-1:])

    for part in p.kpis:
        k = part.kpi
        slide = prs.slides.add_slide(blank)
        _title(slide, f"{k.label} · {sel.span.label}")
        _text(slide, Inches(0.4), Inches(0.9), W - Inches(0.8), Inches(0.5),
              ["   ".join(f"{h}: {v}" for h, v in part.numbers)], size=16, bold_first=True)
        charts = [s for s in part.shots if s.key.endswith(("-trend", "-bridge"))]
        width = (W - Inches(1.0)) / 2
        for i, shot in enumerate(charts):
            slide.shapes.add_picture(_png(shot.fig), Inches(0.4) + i * (width + Inches(0.2)), Inches(1.5),
                                     width=width)
        if part.bridge_note:
            _text(slide, Inches(0.4) + width + Inches(0.2), Inches(2.5), width, Inches(1), [part.bridge_note], size=12)
        defs = [f"{r['View']} v{r['Version']} (effective {r['Effective']}, owner {r['Owner']}): {r['Definition']}"
                for r in part.definitions.iter_rows(named=True)]
        _text(slide, Inches(0.4), Inches(5.3), W - Inches(0.8), Inches(1.3), ["Definitions", *defs], size=10,
              bold_first=True)
        lines = stamp_lines(sel, k, k.label)
        _stamp(slide, [lines[0] + " · " + lines[1], lines[-1]])

    _agreements_slide(prs, p)
    slide = prs.slides.add_slide(blank)
    _title(slide, "Open actions and decisions")
    if p.actions.height:
        _table(slide, p.actions, Inches(0.4), Inches(1.0), W - Inches(0.8), size=11)
        if p.actions.height > 14:
            _text(slide, Inches(0.4), H - Inches(1.2), W, Inches(0.4), [f"… and {p.actions.height - 14} more"])
    else:
        _text(slide, Inches(0.4), Inches(1.2), W, Inches(0.5), ["No open actions."], size=16)
    _stamp(slide, [sel.filter_text(), sel.as_of_text() + " · Tandem"])

    _scenarios(prs, blank, p)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def _scenarios(prs, blank, p: Pack) -> None:  # noqa: ANN001
    """A slide of the saved payment-terms scenarios, when there are any."""

    rows = decided.pack_table(p.sel.db, p.sel.currency, limit=8)
    if not rows.height:
        return
    slide = prs.slides.add_slide(blank)
    _title(slide, "Payment-terms scenarios")
    _table(slide, rows.drop("Assumptions"), Inches(0.4), Inches(1.0), W - Inches(0.8), size=9)
    _stamp(slide, [p.sel.filter_text(), p.sel.as_of_text() + " · Tandem"])


def pptx(sel: Scope) -> bytes:
    """The pack as a PowerPoint deck: a title slide, the overview, one slide per KPI (every view's number
    and gap, the trend and bridge images, the definitions with versions, the stamp) and the actions."""
    return build(pack.collect(sel))
