"""The KPI declarations: the bundled ones are valid, and every kind of mistake is reported, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from kpi_definitions.compute import Selection, compute
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import HERE, SQL_DIR, Issue, RegistryError, parse, registry


def test_bundled_declarations_are_valid_and_ordered() -> None:
    reg, issues = parse()
    assert issues == []
    assert reg.names == ["savings", "inventory_days", "budget_variance", "payment_days", "spend_under_management",
                         "price_change"]
    for kpi in reg:
        assert set(kpi.views) == {"finance", "procurement"}
        assert kpi.bridge is not None and kpi.bridge.from_view == "procurement" and kpi.bridge.to_view == "finance"
        for view in kpi.views.values():
            assert view.owner and view.version and view.effective_date
    assert reg.kpi_of("budget_variance_pct") == "budget_variance"
    assert reg.kpi_of("nope") is None


def _folder(tmp_path: Path, **changes: dict) -> Path:
    """A copy of the bundled declarations, with some of them edited."""
    folder = tmp_path / "kpis"
    folder.mkdir()
    for f in HERE.glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    for name, edit in changes.items():
        doc = yaml.safe_load((folder / f"{name}.yaml").read_text())
        edit(doc)
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


def test_every_invalid_declaration_is_reported_with_file_kpi_and_field(tmp_path: Path) -> None:
    def savings(d: dict) -> None:
        d["dimensions"].append("colour")
        del d["views"]["finance"]
        d["bridge"]["from"] = "agreed"
        d["bridge"]["steps"].append(dict(d["bridge"]["steps"][0]))

    def inventory(d: dict) -> None:
        d["views"]["finance"]["sql"] = "no_such_query"
        d["views"]["procurement"]["bind"] = {}

    def payment(d: dict) -> None:
        d["name"] = "Payment Days"
        del d["views"]["finance"]["owner"]

    folder = _folder(tmp_path, savings=savings, inventory_days=inventory, payment_days=payment)
    (folder / "broken.yaml").write_text("name: [unclosed\n")
    reg, issues = parse(folder, SQL_DIR)
    assert set(issues) == {
        Issue("savings.yaml", "savings", "dimensions", "unknown dimension 'colour' (known: supplier_id, category, "
              "cost_center, item_id, location, savings_type)"),
        Issue("savings.yaml", "savings", "views", "no finance view: every KPI is declared under both definitions"),
        Issue("savings.yaml", "savings", "bridge.from", "names no view of savings: 'agreed'"),
        Issue("savings.yaml", "savings", "bridge.to", "names no view of savings: 'finance'"),
        Issue("savings.yaml", "savings", "bridge.steps.name", "step 'cost_avoidance' declared twice"),
        Issue("inventory_days.yaml", "inventory_days", "views.finance.sql", "no SQL file sql/no_such_query.sql"),
        Issue("inventory_days.yaml", "inventory_days", "views.procurement.sql",
              "inventory_days.sql uses {stock} but the declaration does not bind it"),
        Issue("inventory_days.yaml", "inventory_days", "views.procurement.lines",
              "lines_inventory.sql uses {stock} but the declaration does not bind it"),
        Issue("payment_days.yaml", "Payment Days", "views.finance.owner", "Field required"),
        Issue("broken.yaml", "?", "(file)", "not valid YAML: while parsing a flow sequence"),
    }
    assert reg.names == ["budget_variance", "spend_under_management", "price_change"]  # the valid ones still load


def test_a_bad_name_and_a_bad_binding_are_caught(tmp_path: Path) -> None:
    def budget(d: dict) -> None:
        d["views"]["finance"]["bind"] = {"spend": "actual_spend; DROP TABLE invoices", "extra": "x"}
        d["bridge"]["steps"][0]["name"] = "Orders-not-invoiced"

    _, issues = parse(_folder(tmp_path, budget_variance=budget), SQL_DIR)
    fields = {(i.field, i.message.split(",")[0]) for i in issues}
    assert ("views.finance.bind.spend", "'actual_spend; DROP TABLE invoices' is not a name (lower-case letters") \
        in fields
    assert ("views.finance.sql", "binds 'extra'") in fields
    assert ("bridge.steps.name", "'Orders-not-invoiced' is not a name (lower-case letters") in fields


def test_a_view_reading_the_year_before_must_say_so(tmp_path: Path) -> None:
    # Only a view that declares year_before is given the twelve months before its span (kpi_definitions/query.py):
    # a year-over-year SQL without it would compare with nothing.
    def savings(d: dict) -> None:
        del d["views"]["finance"]["year_before"]

    _, issues = parse(_folder(tmp_path, savings=savings), SQL_DIR)
    assert {(i.field, i.message) for i in issues} == {
        ("views.finance.year_before", f"{name}.sql reads months a year before the span: declare `year_before: true`, "
         "or the query is given none of them") for name in ("savings_finance", "lines_invoices_yoy")}


def test_a_view_of_the_span_alone_groups_only_its_months() -> None:
    from kpi_definitions.compute import explain

    oct26 = 2026 * 12 + 9
    queries = {q.label: q for q in explain(registry(), Selection(oct26, oct26), bridges=False)}
    assert queries["savings (finance)"].params["m_lo"] == oct26 - 12  # year over year: the year before too
    assert queries["price_change (finance)"].params["m_lo"] == oct26 - 12
    assert queries["payment_days (finance)"].params["m_lo"] == oct26  # paid in the month: the month alone
    assert queries["spend_under_management (procurement)"].params["m_lo"] == oct26


def test_registry_raises_with_every_issue(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import kpi_definitions.registry as mod

    folder = _folder(tmp_path, savings=lambda d: d.update(unit="euros"))
    monkeypatch.setattr(mod, "HERE", folder)
    mod.registry.cache_clear()
    try:
        with pytest.raises(RegistryError, match="savings.yaml: savings: unit: Input should be 'currency'"):
            mod.registry()
    finally:
        monkeypatch.undo()
        mod.registry.cache_clear()
    assert registry().names[0] == "savings"


def test_a_third_view_is_only_a_declaration(tmp_path: Path, golden_db: Path) -> None:
    """The 'agreed' definition two teams settle on in a review: a new view, no code."""
    def agreed(d: dict) -> None:
        d["views"]["agreed"] = dict(d["views"]["procurement"], owner="Joint KPI review", version="0.1",
                                    definition="Negotiated savings on price reductions only, no cost avoidance.")
        d["views"]["agreed"]["sql"] = "savings_agreed"

    folder = _folder(tmp_path, savings=agreed)
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    (sql_dir / "savings_agreed.sql").write_text(
        (SQL_DIR / "savings_procurement.sql").read_text().replace(
            "LEFT JOIN po_savings x ON x.m = b.m", "LEFT JOIN po_savings x ON x.m = b.m AND x.savings_type = 'price_reduction'"))
    reg, issues = parse(folder, sql_dir)
    assert issues == []
    con = duckdb.connect(str(golden_db), read_only=True)
    try:
        values = compute(con, reg, Selection(parse_month("2026-01"), parse_month("2026-01")), kpis=["savings"]).values
    finally:
        con.close()
    assert {r["view"]: r["value"] for r in values.iter_rows(named=True)} == {
        "finance": -200, "procurement": 60, "agreed": 20}
