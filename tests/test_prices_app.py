"""The price page, the savings page's net-of-market option and `tandem outlook`, on real DuckDB files: the
demo for the app (AppTest), the hand-built basket of tests/test_prices.py for the numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from tests.test_app import app, metrics
from tests.test_prices import basket_db  # noqa: F401  (the fixture)

runner = CliRunner()


def test_the_price_page_shows_both_views_the_market_and_the_outlook(demo_db: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "price_change", period="2026-09")
    labels = [label for label, _ in metrics(at)]
    assert labels[:2] == ["Finance · 2026-09", "Procurement · 2026-09"]
    assert all(v.endswith("%") for _, v in metrics(at)[:2])
    heads = [h.value for h in at.subheader]
    assert "Our prices against the market" in heads and "Price outlook for planning · as of 2026-09" in heads
    outlook = next(df.value for df in at.dataframe if "At stake" in df.value.columns)
    assert set(outlook["Category"]) >= {"IT Hardware", "Logistics"}
    assert outlook.loc[outlook["Category"] == "Logistics", "Market, 12 mo"].iloc[0] < 0  # freight fell in the demo
    at.selectbox(key="price_market_category").set_value("IT Hardware").run()
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    market = next(s for s in specs if s["layout"]["title"]["text"] == "Price index · IT Hardware: ours against the market")
    assert [t["name"] for t in market["data"]] == ["Our prices", "PPI Electronics"]
    assert [t["y"][0] for t in market["data"]] == [100, 100]  # both rebased to the first month shown


def test_savings_net_of_market_is_an_option_on_the_savings_page(demo_db: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "savings", period="2026-09")
    assert not any("Savings net of market" in df.value.columns for df in at.dataframe)
    at.toggle(key="savings_net_of_market").set_value(True).run()
    assert not at.exception
    net = next(df.value for df in at.dataframe if "Savings net of market" in df.value.columns)
    logistics = net[(net["Category"] == "Logistics") & (net["View"] == "Procurement")].iloc[0]
    # freight fell: part of the saving is the market's, so the net is below the negotiated savings
    assert logistics["Market's part"] > 0 and logistics["Savings net of market"] < logistics["Savings"]


def test_outlook_and_kpis_on_the_command_line(basket_db: Path) -> None:  # noqa: F811
    r = runner.invoke(cli, ["outlook", "--db", str(basket_db), "--period", "2026-03", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["as_of"] == "2026-03"
    it = doc["categories"][0]  # the arithmetic: tests/test_prices.py::test_the_outlook_of_contracts_ending_within_a_year
    assert (it["category"], it["contracts_ending"], it["exposure"], it["below_market"]) == ("IT", 2, 56.9, 0.1)
    r = runner.invoke(cli, ["kpis", "--db", str(basket_db), "--period", "2026-03", "--kpi", "price_change",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {row["view"]: row for row in json.loads(r.stdout)}
    assert rows["finance"]["value"] == pytest.approx(0.176310, abs=1e-6) and rows["finance"]["unit"] == "ratio"
    assert rows["procurement"]["value"] == pytest.approx(16 / 105, abs=1e-6)
    r = runner.invoke(cli, ["outlook", "--db", str(basket_db), "--period", "2026-13"])
    assert r.exit_code != 0 and "is not a period" in r.output


def test_the_drill_down_lists_the_items_that_moved_the_index(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drill-down shows every view's lines at once: finance's items by contribution, procurement's by contract."""
    at = app(demo_db, monkeypatch, "drilldown", period="2026-09", kpi="price_change", by=["category"])
    at.selectbox(key="lines_for").set_value("IT Hardware").run()
    assert not at.exception
    lines = next(df.value for df in at.dataframe if "Contribution" in df.value.columns)
    assert len(lines) > 0 and set(lines["Category"]) == {"IT Hardware"}
    contribution = lines["Contribution"].abs().tolist()
    assert contribution == sorted(contribution, reverse=True)  # the items that moved it most come first
    assert {"Supplier ID", "Item ID", "First price", "Last price", "Months compared"} <= set(lines.columns)