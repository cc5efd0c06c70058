"""Text from data is never markup in a chart (issue 25, finding 3): hostile names in every dimension and in a
price index name, every chart of every page built by the app (AppTest) and by the pack, every text field of
every figure checked, and the SVG Kaleido writes of each parsed."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from reports import safe_text

# Each is a way a name from an export could try to become markup: a link (with a javascript: target), other
# tags Plotly reads (bold, superscript, a styled span, an image with a handler), Markdown, a spreadsheet
# formula, and bidi or invisible controls that reverse or hide text.
HOSTILE = [
    '<a href="javascript:alert(1)">IT Hardware</a>',
    "[Logistics](javascript:alert(1)) **now**",
    '=HYPERLINK("http://evil.example","Raw")',
    "Pack\u202egnigak",
    "<img src=x onerror=alert(1)>MRO",
    "<b>Soft</b><br>ware<sup>2</sup>",
    "+Facilities\u2066\u200b",
    '@Prof <span style="font-size:80px">Services</span>',
]
INDEX = ['<a href="javascript:alert(2)">PPI Electronics</a>', "PPI <b>Freight</b>\u202e", "PPI Metals",
         "PPI Paper", "PPI <i>Industrial</i>", "<a href=javascript:alert(3)>Services</a>"]
# What the charts write themselves (reports/charts.py): line breaks, a colour mark, hover's <extra>
OURS = re.compile(r"<br>|<extra>|</extra>|</span>|<span style='(?:font-size:\d+px;)?color:#[0-9a-fA-F]{3,6}'>")
HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u061c]")


def live(text: str) -> list[str]:
    """The markup Plotly would read in `text`: any tag but the charts' own, and hidden controls."""
    found = [t for t in re.findall(r"<[^<>]*>", text) if not OURS.fullmatch(t)]
    return found + [f"U+{ord(c):04X}" for c in HIDDEN.findall(text)]


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != "template":
                yield from strings(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from strings(v, f"{path}[{i}]")


def problems(spec: dict) -> list[str]:
    """Every drawn text field of a figure (its JSON) holding live markup. customdata is what a click carries
    back; only the parts a hover template shows are drawn, so only those are checked."""
    out = []
    for i, trace in enumerate(spec.get("data", [])):
        drawn = {k: v for k, v in trace.items() if k != "customdata"}
        out += [f"data[{i}]{p}: {t!r}" for p, t in strings(drawn) if live(t)]
        templates = str(trace.get("hovertemplate", "")) + str(trace.get("texttemplate", ""))
        for whole, part in re.findall(r"%\{customdata(\[(\d+)\])?", templates):
            for row in trace.get("customdata") or []:
                shown = row if not whole else row[int(part)]
                out += [f"data[{i}].customdata: {t!r}" for _, t in strings(shown) if live(t)]
    out += [f"layout{p}: {t!r}" for p, t in strings(spec.get("layout", {})) if live(t)]
    return out


def test_markup_escapes_every_tag_but_the_charts_own_and_shows_controls() -> None:
    assert safe_text.markup('<a href="javascript:x">y</a>') == '&lt;a href="javascript:x"&gt;y&lt;/a&gt;'
    assert safe_text.markup("x\u202etxt") == "x⟨U+202E⟩txt"
    assert safe_text.markup("a<br>b <span style='color:#1f5fa8'>■</span>") == "a<br>b <span style='color:#1f5fa8'>■</span>"
    assert safe_text.markup('<span style="font-size:80px">x</span>') == '&lt;span style="font-size:80px"&gt;x</span>'
    assert safe_text.markup("1 < 2") == "1 &lt; 2" and safe_text.markup("&lt;b&gt;") == "&lt;b&gt;"
    for text in [*HOSTILE, *INDEX]:  # idempotent: text escaped once passes unchanged the second time
        assert safe_text.markup(safe_text.markup(text)) == safe_text.markup(text)
        assert not live(safe_text.markup(text))


def _hostile_exports(folder: Path) -> list[Path]:
    """The demo exports with hostile text in every dimension (supplier ids and names, categories, cost centers,
    items, locations) and in the market index names, the same value in every file it appears in."""
    from workspace.demo import write_demo

    files = write_demo(folder)
    cats = pl.read_csv(folder / "category_index.csv")
    category = dict(zip(cats["category"].to_list(), HOSTILE, strict=True))
    index = dict(zip(cats["index_name"].unique(maintain_order=True).to_list(), INDEX, strict=True))
    invoices = pl.read_csv(folder / "invoices.csv", infer_schema_length=0)
    suppliers = invoices["supplier_id"].unique().sort().to_list()
    centers = invoices["cost_center"].unique().sort().to_list()
    inventory = pl.read_csv(folder / "inventory.csv", infer_schema_length=0)
    items, places = inventory["item_id"].unique().sort().to_list(), inventory["location"].unique().sort().to_list()
    swap = {"category": category, "index_name": index,
            "supplier_id": {s: f"{s}<a href=javascript:alert(4)>\u202e" for s in suppliers[:3]},
            "cost_center": {c: f"<b>{c}</b>\u2067=1+1" for c in centers},
            "item_id": {i: f"{i}<sub>x</sub>" for i in items[:4]},
            "location": {p: f"<a href='javascript:alert(5)'>{p}</a>" for p in places}}
    for f in files:
        df = pl.read_excel(f) if f.suffix == ".xlsx" else pl.read_parquet(f) if f.suffix == ".parquet" else \
            pl.read_csv(f, infer_schema_length=0)
        changes = [pl.col(c).replace(m) for c, m in swap.items() if c in df.columns]
        if f.stem == "suppliers":  # the names the breakdowns show beside the ids
            changes.append(pl.Series("supplier_name", [HOSTILE[i % len(HOSTILE)] for i in range(df.height)]))
        if not changes:
            continue
        df = df.with_columns(changes)
        if f.suffix == ".xlsx":
            df.write_excel(f)
        elif f.suffix == ".parquet":
            df.write_parquet(f)
        else:
            df.write_csv(f)
    return files


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workspace.db import connect, ingest_file

    folder = tmp_path_factory.mktemp("hostile")
    db = folder / "tandem.duckdb"
    con = connect(db)
    try:
        for f in _hostile_exports(folder / "exports"):
            result = ingest_file(con, f)
            assert result.ok, f"{f.name}: {result.outcome} {result.message}"
    finally:
        con.close()
    return db


def test_hostile_names_are_text_in_every_chart_of_every_page_the_pack_and_the_svg(
        hostile_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import plotly.graph_objects as go

    from kpi_definitions.registry import registry
    from reports import charts, exports, pack
    from tests.test_app import app

    # the names really are in the data: each shows up (escaped) in some chart below
    specs: dict[str, dict] = {}

    def collect(at, where: str) -> None:  # noqa: ANN001 - an AppTest
        assert not at.exception, [e.message for e in at.exception]
        for i, chart in enumerate(at.get("plotly_chart")):
            specs[f"{where}#{i}"] = json.loads(chart.proto.spec)

    collect(app(hostile_db, monkeypatch), "overview")
    for kpi in registry():
        at = app(hostile_db, monkeypatch, kpi.name)
        collect(at, kpi.name)
        for dim in kpi.dimensions:  # every breakdown the page offers
            at.selectbox(key=f"{kpi.name}_by").set_value(dim).run()
            collect(at, f"{kpi.name} by {dim}")
        if kpi.name == "price_change":  # the market chart of a category named to be a link
            at.selectbox(key="price_market_category").set_value(HOSTILE[0]).run()
            collect(at, "price market")
    assert len(specs) >= 20, sorted(specs)
    sel = pack.selected(hostile_db, "2026-09")
    shots = pack.collect(sel).shots
    figures = {k: json.loads(v.fig.to_json()) for k, v in {f"pack {s.key}": s for s in shots}.items()}
    # a slide snapshot: the filter bar's hostile values written under the chart (charts.stamp)
    stamped = charts.stamp(shots[1].fig, [f"Category: {HOSTILE[0]}", f"Supplier: {HOSTILE[5]}"], "slide")
    figures["stamp"] = json.loads(stamped.to_json())
    every = specs | figures
    found = {name: p for name, spec in every.items() if (p := problems(spec))}
    assert found == {}
    text = json.dumps(every, ensure_ascii=False)
    assert "&lt;a href=\\\"javascript:alert(1)\\\"&gt;IT Hardware&lt;/a&gt;" in text  # a category, escaped
    assert "&lt;a href=\\\"javascript:alert(2)\\\"&gt;PPI Electronics" in text  # the index in the legend
    assert "Pack⟨U+202E⟩gnigak" in text and "&lt;b&gt;Soft&lt;/b&gt;" in text
    # the SVG Kaleido writes, for every figure: no link, no handler, no hidden control, tags drawn as text
    for name, spec in every.items():
        svg = exports.image(go.Figure(spec), "svg").decode("utf-8")
        root = ET.fromstring(svg)
        tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
        assert not tags & {"a", "script", "img", "image", "foreignObject"}, (name, tags)
        attrs = " ".join(v for el in root.iter() for v in el.attrib.values())
        assert "javascript:" not in attrs and "onerror" not in attrs and "font-size:80px" not in attrs, name
        assert not HIDDEN.search(svg), name
        if "&lt;" in json.dumps(spec):  # a tag of the data is drawn as its characters
            assert "<" in "".join(root.itertext()), name
    # the HTML pack: its tables escape the names; its figures (checked above as pack figures) are JSON inside
    # scripts, where plotly writes `<` as \\u003c, so a name cannot close a script and open a tag
    html = pack.build(sel)
    assert "javascript:alert(1)" in html  # the names are in it, as text
    outside = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert html.count("<script") == html.count("</script>") and "</script" not in "".join(
        re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S))
    assert not re.search(r"<(a\s+href=[\"']?javascript|img\s+src=x|span style=\"font-size:80|b>Soft)", outside)
