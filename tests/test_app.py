"""The Streamlit app, every page, run with streamlit's AppTest on real DuckDB files (demo and hand-built)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from decisions import review
from decisions.review import named
from kpi_definitions.compute import Selection, compute
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import registry
from reports import formats
from store.db import reading
from workspace.demo import write_demo

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["overview", "review", "savings", "inventory_days", "budget_variance", "payment_days", "price_change",
         "spend_under_management", "drilldown", "definitions", "data"]



def signed_in_page(who: str, page: str) -> AppTest:
    """The app with login configured and `who` signed in (Streamlit's test user), on `page` (a pages/ script):
    roles come from TANDEM_ROLES as the caller set it."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
                          "client_id": "tandem", "client_secret": "secret",
                          "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
    at.user = {"is_logged_in": True, "email": who, "name": who}
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def app(db: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None, **widgets: object) -> AppTest:
    """Run the app (as a browser does: the entry script first), go to the page, then set widgets by key.

    Opening a view from a link (query parameters) needs a browser session: that is tests/test_e2e.py.
    """
    monkeypatch.setenv("TANDEM_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    if page:
        go(at, page).run()
    for key, value in widgets.items():
        at = at.get(_kind(at, key))[_index(at, key)].set_value(value).run()
        assert not at.exception, [e.message for e in at.exception]
    assert not at.exception, [e.message for e in at.exception]
    return at


def go(at: AppTest, page: str) -> AppTest:
    """Switch to a page by its URL path: a script of pages/, or a KPI page the registry made (a callable, which
    AppTest.switch_page cannot name: it is found by the url path st.navigation registered it under)."""
    if (ROOT / "pages" / f"{page}.py").is_file():
        return at.switch_page(f"pages/{page}.py")
    hashes = {info.get("url_pathname"): h for h, info in at._registered_pages.items()}
    at._page_hash = hashes[page]
    return at


def kpi_page_alone(name: str) -> AppTest:
    """A KPI page run bare, without app.py's navigation (as the page a shared link names)."""
    def page(name: str) -> None:
        from tandem import kpi_page

        kpi_page.show(name)

    return AppTest.from_function(page, default_timeout=120, args=(name,))


def _kind(at: AppTest, key: str) -> str:
    for kind in ("selectbox", "multiselect"):
        if any(w.key == key for w in at.get(kind)):
            return kind
    raise KeyError(key)


def _index(at: AppTest, key: str) -> int:
    return [w.key for w in at.get(_kind(at, key))].index(key)


def metrics(at: AppTest) -> list[tuple[str, str]]:
    """(label, value) of every metric, with the colour mark taken off the label."""
    return [(m.label.split("] ")[-1], m.value) for m in at.metric]


def expected(db: Path, first: int, last: int, grain: str = "month", filters: dict | None = None) -> pl.DataFrame:
    with reading(db) as con:
        return compute(con, registry(), Selection(first, last, grain, (), filters or {}), currency="EUR").values


def value(values: pl.DataFrame, kpi: str, view: str) -> float | None:
    rows = values.filter((pl.col("kpi") == kpi) & (pl.col("view") == view))
    return rows["value"][0] if rows.height else None


M = FiscalCalendar().parse  # month index of a label: M("2026-01", "month")[0]


# --- hand-computed values on the golden exports (tests/golden/cases.yaml has the arithmetic) ------------


def test_overview_shows_hand_computed_values_and_filters_change_them(golden_db: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_db, monkeypatch, period="2026-01")
    assert [t.value for t in at.title] == ["Overview"]
    shown = metrics(at)
    # savings: finance 300 − 500 = −200, procurement 20 + 40 = 60; inventory days 41.0 / 20.0
    assert shown[:4] == [("Finance", "−EUR 200"), ("Procurement", "EUR 60"),
                         ("Finance", "41.0 days"), ("Procurement", "20.0 days")]
    assert "Gap (finance − procurement): −EUR 260" in [t.value for t in at.text]
    at.multiselect(key="category").set_value(["IT"]).run()
    assert not at.exception
    # category IT: finance I01 100 − (80 + 50 − 20) = −10; procurement P1 = 20
    assert metrics(at)[:2] == [("Finance", "−EUR 10"), ("Procurement", "EUR 20")]


def test_a_fiscal_quarter_is_the_sum_of_its_months(golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_db, monkeypatch, "savings", grain="quarter", period="2026-Q1")
    assert at.selectbox(key="grain").value == "quarter" and at.selectbox(key="period").value == "2026-Q1"
    # 2026-Q1: finance (300 + 90) − (500 + 160 + 0) = −270, procurement 60 + 15 + 0 = 75
    assert metrics(at)[:2] == [("Finance · 2026-Q1", "−EUR 270"), ("Procurement · 2026-Q1", "EUR 75")]


# --- every page on the demo database --------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_demo_data(demo_db: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    at = app(demo_db, monkeypatch, page)
    assert at.title and at.title[0].value
    assert not [e for e in at.error]


def test_overview_cards_are_the_kpi_layer_values(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch)
    period = at.selectbox(key="period").value
    first, last = M(period, "month")
    values = expected(demo_db, first, last)
    want = []
    for kpi in registry():
        for view in kpi.views:
            want.append((view.capitalize(), formats.value(value(values, kpi.name, view), kpi.unit, "EUR")))
    assert metrics(at) == want
    # change since the previous month, as the KPI layer computes both months
    before = expected(demo_db, first - 1, last - 1)
    delta = value(values, "savings", "finance") - value(before, "savings", "finance")
    assert at.metric[0].delta == formats.signed(delta, "currency", "EUR")


def test_filters_change_the_numbers_and_go_into_the_url(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "budget_variance")
    before = metrics(at)[:2]
    at.multiselect(key="cost_center").set_value(["IT"]).run()
    assert not at.exception
    first, last = M(at.selectbox(key="period").value, "month")
    values = expected(demo_db, first, last, filters={"cost_center": ["IT"]})
    now = [m[1] for m in metrics(at)[:2]]
    assert now == [formats.value(value(values, "budget_variance", v), "currency", "EUR") for v in ("finance", "procurement")]
    assert now != [m[1] for m in before]


def test_kpi_page_shows_definitions_bridge_and_breakdown(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "payment_days")
    texts = [t.value for t in at.text]
    for view in registry()["payment_days"].views.values():
        assert view.definition in texts  # each view's definition next to its number
    steps, breakdown = at.dataframe[0].value, at.dataframe[1].value
    assert list(steps["Step"]) == ["Paid before terms", "Paid after terms", "Lines without agreed terms"]
    assert "supplier_id" in breakdown.columns and len(breakdown) > 10
    at.selectbox(key="payment_days_by").set_value("category").run()
    assert "category" in at.dataframe[1].value.columns


def test_drilldown_narrows_to_the_lines_behind_one_value(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "drilldown", kpi="spend_under_management", by=["category"])
    aggregate = at.dataframe[0].value  # every view side by side, the gap, readable headers, numbers
    assert list(aggregate.columns) == ["Category", "Finance", "Procurement", "Gap (F − P)"]
    gaps = aggregate["Gap (F − P)"].abs().tolist()
    assert gaps == sorted(gaps, reverse=True)  # largest gap first
    finance, procurement = at.dataframe[1].value, at.dataframe[2].value  # the lines under each view
    assert "Invoice ID" in finance.columns and not [c for c in procurement.columns if "_" in c]
    category = aggregate["Category"].iloc[0]
    at.selectbox(key="lines_for").set_value(category).run()
    lines = at.dataframe[2].value
    assert 0 < len(lines) < len(procurement) and set(lines["Category"]) == {category}
    row = aggregate.iloc[0]
    assert (f"{category}: Finance {formats.ratio(row['Finance'])} · Procurement {formats.ratio(row['Procurement'])} · "
            f"Gap (F − P) {formats.signed(row['Gap (F − P)'], 'ratio')}") in [t.value for t in at.text]


def test_drilldown_by_two_dimensions_down_to_the_hand_built_po_line(golden_db: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_db, monkeypatch, "drilldown", period="2026-01", kpi="savings",
             by=["savings_type", "category"])
    # 2026-01: P1 (IT, price reduction) (10 − 8) × 10 = 20; P2 (LOG, cost avoidance) (100 − 90) × 0.8 × 5 = 40;
    # finance has no savings types: its column is empty, the gap too
    aggregate = at.dataframe[0].value
    assert aggregate[["Savings type", "Category", "Procurement"]].values.tolist() == [
        ["cost_avoidance", "LOG", 40.0], ["price_reduction", "IT", 20.0]]  # numbers: they sort
    at.selectbox(key="lines_for").set_value("cost_avoidance · LOG").run()
    lines = at.dataframe[-1].value  # procurement's lines: the PO line behind 40
    assert lines[["PO ID", "Savings type", "Category"]].values.tolist() == [["P2", "cost_avoidance", "LOG"]]


def test_review_persists_notes_and_carries_open_actions(demo_db: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "review.duckdb"
    shutil.copy(demo_db, db)
    at = app(db, monkeypatch, "review")
    at.button[0].click().run()  # start this week's review
    assert not at.exception and any(c.value.startswith("Today's review started at") for c in at.caption)
    assert not [b for b in at.button if b.label == "Start this week's review"]  # started: no second start
    form = at.get("form")[0]
    form.radio[0].set_value("action")
    form.text_area[0].input("Chase <b>S0007</b> credit notes =1+1")
    form.text_input[0].input("Ana (AP)")
    form.date_input[0].set_value(date.today() + timedelta(days=7))
    form.button[0].click().run()  # the form's submit button
    assert not at.exception and [s.value for s in at.success] == ["Saved as an action on Savings."]
    assert at.get("form")[0].text_area[0].value == ""  # written: the form is cleared
    # a new session (next week's meeting) still sees the open action, text exactly as typed, its KPI by name
    at = app(db, monkeypatch, "review")
    items = at.dataframe[-2].value
    assert list(items["Text"]) == ["Chase <b>S0007</b> credit notes =1+1"] and list(items["Owner"]) == ["Ana (AP)"]
    assert list(items["KPI"]) == ["Savings"] and list(items["Kind"]) == ["Action"]
    close = [b for b in at.button if b.label == "Close it"][0]
    close.click().run()
    assert len(at.dataframe[-2].value) == 0


def test_a_review_compares_with_the_previous_review_not_with_itself(demo_db: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Last week's review saw savings (finance) 2026-10 at 1,000 more than now; starting today's review keeps
    comparing with last week's (compared with itself, every change read 0)."""
    from decisions.identity import local_user
    from workspace.db import connect

    db = tmp_path / "review.duckdb"
    shutil.copy(demo_db, db)
    first, last = FiscalCalendar().parse("2026-10", "month")
    now = expected(db, first, last).filter((pl.col("kpi") == "savings") & (pl.col("view") == "finance"))
    con = connect(db)
    week_ago = date.today() - timedelta(days=7)
    review.start(con, week_ago, "2026-10", now.with_columns(pl.col("value") + 1000), by=local_user())
    con.close()
    at = app(db, monkeypatch, "review", period="2026-10")
    assert at.subheader[0].value == f"Since the previous review ({week_ago}, on 2026-10)"
    moved = at.dataframe[0].value
    assert (moved["KPI"][0], moved["View"][0], moved["Change"][0]) == ("Savings", "Finance", -1000.0)
    [b for b in at.button if b.label == "Start this week's review"][0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    at = app(db, monkeypatch, "review", period="2026-10")  # today's review started: still last week's baseline
    assert at.subheader[0].value == f"Since the previous review ({week_ago}, on 2026-10)"
    assert at.dataframe[0].value["Change"][0] == -1000.0
    at = app(db, monkeypatch, "overview", period="2026-10")
    assert any(c.value.startswith(f"Review of {week_ago} (on 2026-10)") for c in at.caption)


def test_a_viewer_sees_no_write_form_on_any_page_that_writes(demo_db: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed in as a viewer (the real sign-in is tests/test_e2e_agreement.py): the Agreements, Review meeting and
    Payment terms pages show what there is and no form, and each says why; an editor of finance sees them."""
    from decisions.identity import Identity
    from tandem import auth

    db = tmp_path / "roles.duckdb"
    shutil.copy(demo_db, db)
    viewer = Identity("vic@example.com", "Victor Viewer", None, "viewer", True)
    monkeypatch.setattr(auth, "current_user", lambda: viewer)
    for page, says in [("agreement", "You are signed in with the viewer role: you can read every agreement and "
                                     "target here"),
                       ("review", "You can read the meeting's notes, decisions and actions; starting a review"),
                       ("terms", "Saving a scenario for the review needs the editor role")]:
        at = app(db, monkeypatch, page)
        assert not at.exception, [e.message for e in at.exception]
        assert not at.get("form"), page
        assert not [b for b in at.button if b.label in ("Start this week's review", "Close it", "Propose target")]
        assert any(c.value.startswith(says) for c in at.caption), page
    fiona = Identity("fiona@example.com", "Fiona Finance", "finance", "editor", True)
    monkeypatch.setattr(auth, "current_user", lambda: fiona)
    at = app(db, monkeypatch, "agreement")
    assert {f.proto.form.form_id for f in at.get("form")} >= {"agreement_propose", "target_propose"}
    at = app(db, monkeypatch, "review")
    assert [f.proto.form.form_id for f in at.get("form")] == ["add_item"]
    # an admin without a team reads the agreements but proposes nothing: agreeing is a team's
    admin = Identity("boss@example.com", "Boss", None, "admin", True)
    monkeypatch.setattr(auth, "current_user", lambda: admin)
    at = app(db, monkeypatch, "agreement")
    assert not at.get("form") and any(c.value.startswith("Boss has no team") for c in at.caption)


def test_an_action_without_owner_is_refused_with_a_message(demo_db: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "review.duckdb"
    shutil.copy(demo_db, db)
    at = app(db, monkeypatch, "review")
    form = at.get("form")[0]
    form.text_area[0].input("Someone should look at this")
    form.button[0].click().run()
    assert [e.value for e in at.error] == ["Choose what it is: note, decision, action."]  # nothing pre-chosen
    form = at.get("form")[0]
    form.radio[0].set_value("action")
    form.text_area[0].input("Someone should look at this")
    form.text_input[0].input("Ana")
    form.button[0].click().run()
    assert [e.value for e in at.error] == ["An action needs an owner and a due date: a due date missing."]
    assert review.open_items(db).height == 0  # nothing saved, not even as a note


def test_an_action_with_owner_and_due_date_is_saved_as_an_action(demo_db: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the kind control was pre-set to "action"; clicking it unset it and the item was saved as a note."""
    db = tmp_path / "review.duckdb"
    shutil.copy(demo_db, db)
    at = app(db, monkeypatch, "review")
    form = at.get("form")[0]
    assert form.radio[0].value is None and form.radio[0].options == ["Note", "Decision", "Action"]
    form.radio[0].set_value("action")
    form.text_area[0].input("Ask S0007 for the credit note")
    form.text_input[0].input("Ana")
    form.date_input[0].set_value(date.today() + timedelta(days=3))
    form.button[0].click().run()
    assert not at.exception and [s.value for s in at.success] == ["Saved as an action on Savings."]
    items = review.open_items(db)
    assert items.select("kind", "owner").rows() == [("action", "Ana")]


def test_starting_a_review_once_a_day_and_closed_items_stay_visible(
        demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "review.duckdb"
    shutil.copy(demo_db, db)
    at = app(db, monkeypatch, "review")
    start = [b for b in at.button if b.label == "Start this week's review"][0]
    start.click().run()
    assert [s.value for s in at.success][0].startswith("Review started")
    assert not [b for b in at.button if b.label == "Start this week's review"] and named(db, "reviews").height == 1
    form = at.get("form")[0]
    form.radio[0].set_value("note")
    form.text_area[0].input("Both views agree on MRO")
    form.button[0].click().run()
    [b for b in at.button if b.label == "Close it"][0].click().run()
    closed = at.expander[-1]
    assert "(1)" in closed.label and list(closed.dataframe[0].value["Text"]) == ["Both views agree on MRO"]


def test_definitions_page_lists_every_view_with_owner_version_and_date(demo_db: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "definitions")
    table = at.dataframe[0].value
    assert len(table) == sum(len(k.views) for k in registry())
    row = table[(table["KPI"] == "Payment days") & (table["View"] == "finance")].iloc[0]
    view = registry()["payment_days"].views["finance"]
    assert (row["Owner"], row["Version"], row["Effective"]) == (view.owner, view.version, str(view.effective_date))
    assert view.definition in [t.value for t in at.text]


def test_data_page_shows_freshness_load_log_and_findings(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "data")
    freshness, log, quarantine, findings = (d.value for d in at.dataframe)
    assert sorted(log["export_type"]) == sorted(["fx_rates", "suppliers", "contracts", "purchase_orders", "invoices",
                                                  "budgets", "inventory", "consumption", "price_indices",
                                                  "category_index", "requisitions", "approval_events", "receipts",
                                                  "savings_initiatives"])
    assert set(log["outcome"]) == {"loaded"} and len(quarantine) == 0
    assert findings.to_dict("records")[0]["subject"] == "S9999"
    assert set(freshness["export_type"]) == set(log["export_type"])


def test_no_database_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(tmp_path / "none.duckdb", monkeypatch)
    assert "No database yet" in at.info[0].value


def test_demo_is_deterministic(tmp_path: Path) -> None:
    a = [p.read_bytes() for p in write_demo(tmp_path / "a") if p.suffix == ".csv"]
    b = [p.read_bytes() for p in write_demo(tmp_path / "b") if p.suffix == ".csv"]
    # every CSV export: the price indices, the category-to-index map, requisitions, approval events, receipts and
    # savings initiatives included
    assert a == b and len(a) == 12


def test_upload_loads_a_good_file_and_names_the_line_column_and_rule_of_a_bad_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.rows import VALID

    db = tmp_path / "upload.duckdb"
    good = pl.DataFrame([VALID["suppliers"]]).write_csv().encode()
    bad = pl.DataFrame([VALID["purchase_orders"], VALID["purchase_orders"] | {"po_line": "2", "status": "draft"}]
                       ).write_csv().encode()
    at = app(db, monkeypatch, "data")
    assert at.get("file_uploader")[0].proto.max_upload_size_mb == 200  # TANDEM_MAX_UPLOAD_MB
    at.get("file_uploader")[0].set_value([("suppliers.csv", good, "text/csv"),
                                          ("purchase_orders_march.csv", bad, "text/csv")]).run()
    [b for b in at.button if b.label == "Validate and load"][0].click().run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert "purchase_orders_march.csv, line 3, column status: status one of open, closed, cancelled (value \"draft\")" \
        in texts
    result = at.dataframe[0].value
    assert result[["file", "outcome", "read", "loaded", "quarantined"]].values.tolist() == [
        ["suppliers.csv", "loaded", 1, 1, 0], ["purchase_orders_march.csv", "rejected", 2, 0, 2]]
    with reading(db) as con:  # strict: the file with a bad row loaded nothing, and its row is in the quarantine
        assert con.sql("SELECT count(*) FROM purchase_orders").fetchall() == [(0,)]
        assert con.sql("SELECT line, column_name, rule FROM quarantine ORDER BY line").fetchall() == [
            (2, None, "held back: file rejected"), (3, "status", "status one of open, closed, cancelled")]


# --- a shared link (URL query parameters) reopens the view -------------------------------------------------


def test_a_link_reopens_the_overview_with_its_period_and_filters(golden_db: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DB", str(golden_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"period": "2026-01", "category": ["IT"]})
    at.run()
    assert not at.exception
    assert at.selectbox(key="period").value == "2026-01" and at.multiselect(key="category").value == ["IT"]
    # category IT in 2026-01: finance I01 100 − (80 + 50 − 20) = −10; procurement P1 = 20
    assert metrics(at)[:2] == [("Finance", "−EUR 10"), ("Procurement", "EUR 20")]


def test_a_hand_written_link_may_name_a_supplier_by_its_id(golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The filter shows "S1 · <name>" and a link it writes carries that; a link typed by hand says ?supplier=S1.
    monkeypatch.setenv("TANDEM_DB", str(golden_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"period": "2026-01", "supplier": ["S1"]})
    at.run()
    assert not at.exception
    assert at.multiselect(key="supplier").value == ["S1"]
    # supplier S1 in 2026-01 (all IT): the same lines as category IT above, −10 and 20
    assert metrics(at)[:2] == [("Finance", "−EUR 10"), ("Procurement", "EUR 20")]


@pytest.mark.parametrize("given", [["S1", "S2 · Beta"], ["S1 · Acme", "S2"], ["S2", "S1"]])
def test_a_link_may_mix_ids_and_shown_suppliers(golden_db: Path, monkeypatch: pytest.MonkeyPatch,
                                                given: list[str]) -> None:
    # On a first run Streamlit seeds the filter from the URL's shown values alone (S1 was lost): every one counts.
    monkeypatch.setenv("TANDEM_DB", str(golden_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"period": "2026-01", "supplier": given})
    at.run()
    assert not at.exception
    assert sorted(at.multiselect(key="supplier").value) == ["S1", "S2"]


def test_a_link_reopens_a_kpi_page_at_a_fiscal_quarter(golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DB", str(golden_db))
    at = kpi_page_alone("savings")  # the page the link names
    at.query_params.update({"grain": "quarter", "period": "2026-Q1", "savings_by": "Cost center"})
    at.run()
    assert not at.exception
    assert metrics(at)[:2] == [("Finance · 2026-Q1", "−EUR 270"), ("Procurement · 2026-Q1", "EUR 75")]
    assert "cost_center" in at.dataframe[1].value.columns


def test_a_link_reopens_a_drilldown(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "pages" / "drilldown.py"), default_timeout=120)
    at.query_params.update({"kpi": "Payment days", "view": "Procurement", "by": "Category", "lines_for": "MRO"})
    at.run()
    assert not at.exception
    assert [at.selectbox(key=k).value for k in ("kpi", "lines_for")] == ["payment_days", "MRO"]
    assert at.multiselect(key="by").value == ["category"]
    assert set(at.dataframe[1].value["Category"]) == {"MRO"} == set(at.dataframe[2].value["Category"])
