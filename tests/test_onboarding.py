"""Onboarding a new source in the browser (tandem/onboarding.py, the Data page): a file's drafted mapping as a
form, a guess corrected, the check's counts, the mapping saved as the YAML expected, the file loaded with it and
its total checked against a sum computed here; the form's pieces (the draft's reading settings said once, a
mapping written back as data, the choices turned into a mapping); roles; hostile file content shown inert."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from pipelines import mappings
from pipelines.draft import drafted, shared
from pipelines.load import check_file
from pipelines.mappings import Mapping, load_mapping, mapping_data
from store.db import reading
from store.errors import TandemError
from tandem import onboarding
from tandem.onboarding import CONSTANT, NOT_MAPPED, Choice, Reading, edited
from tests.test_app import ROOT, app, signed_in_page

SAMPLES = ROOT / "tests" / "samples"
NEW = "(a new source: draft one from the file)"
NAME = "zahlungen_2024-q1"

# --- the file a new user brings: a preamble, semicolons, decimal commas, thousands dots and euro signs --------


def euros(cents: int) -> str:
    """An amount as a German export writes it: `1.317.169,92 €`, `-950,00 €`."""
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole:,}".replace(",", ".") + f",{part:02d} €"


def sample_file(folder: Path, rows: int = 40) -> tuple[Path, int]:
    """The payments export of a German utility, built here: two title lines above the header, `;` between cells,
    dates as 31.01.2024, net and gross amounts as `1.317.169,92 €` (a credit note among them), one row with an
    impossible date (31.02.2024), and text a browser or a spreadsheet would run (HTML, Markdown, a formula, a
    right-to-left override) in headers and cells. Returns the file and the gross total in cents of the rows
    that load (every row but the one with the impossible date), summed here from the generated cents."""
    rnd = random.Random(26)
    lines = ["Zahlungen Stadtwerke Musterstadt", "Export vom 31.03.2024"]
    lines.append(";".join(["Belegnummer", "Lieferant", "Kostenstelle", "Sachkonto", "Warengruppe", "Belegdatum",
                           "Betrag netto", "Betrag brutto", "**Notiz**", "<b>Prüfer</b>", "Vermerk\u202eTXT.exe"]))
    total = 0
    for i in range(1, rows + 1):
        net = 131_716_992 if i == 2 else rnd.randint(1_000, 250_000_000)  # 1.317.169,92 € on line 5
        net = -95_000 if i == 7 else net  # a credit note
        gross = round(net * 1.19)
        day = "31.02.2024" if i == 4 else f"{i % 28 + 1:02d}.{i % 3 + 1:02d}.2024"
        if i != 4:
            total += gross
        category = ["IT", "Energie", "Bau", "=1+1"][i % 4]
        lines.append(";".join([f"R-{1000 + i}", f"L-{i % 7:02d}", f"KS-{10 + i % 4}", f"6{i % 5}00", category, day,
                               euros(net), euros(gross), "<b>prüfen</b>" if i % 5 == 0 else "ok",
                               '=HYPERLINK("http://example.com","klick")' if i % 9 == 0 else "",
                               "abc\u202etxt.exe" if i % 11 == 0 else ""]))
    path = folder / f"{NAME}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, total


# What the onboarding saves for the file once `amount` is taken from the gross column: the draft's settings said
# once (the file's separators, euro sign and date format), every column as drafted but the one corrected.
EXPECTED = {
    "name": NAME,
    "description": f"drafted from {NAME}.csv",
    "delimiter": ";",
    "header_row": 3,
    "parsing": {"date_format": "%d.%m.%Y", "decimal_separator": ",", "thousands_separator": ".",
                "currency_symbols": ["€"]},
    "exports": {"invoices": {"columns": {
        "invoice_id": {"from": "Belegnummer"},
        "invoice_line": {"value": "1"},
        "supplier_id": {"from": "Lieferant"},
        "category": {"from": "Warengruppe"},
        "cost_center": {"from": "Kostenstelle"},
        "gl_account": {"from": "Sachkonto"},
        "invoice_date": {"from": "Belegdatum", "empty": ["31.02.2024"]},
        "due_date": {"after_supplier_terms": "Belegdatum", "terms_if_unknown": 30},
        "amount": {"from": "Betrag brutto"},
        "currency": {"value": "EUR"},
    }}},
}


def _select(at: AppTest, label: str):  # noqa: ANN202 - a Streamlit selectbox of the AppTest
    return next(s for s in at.selectbox if s.label == label)


def _button(at: AppTest, label: str):  # noqa: ANN202
    return next(b for b in at.button if b.label.startswith(label))


def _onboarding(db: Path, monkeypatch: pytest.MonkeyPatch, file: Path) -> AppTest:
    """The Data page with `file` uploaded and the new-source choice made."""
    at = app(db, monkeypatch, "data")
    at.get("file_uploader")[0].set_value([(file.name, file.read_bytes(), "text/csv")]).run()
    _select(at, "Source mapping").set_value(NEW).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.apptest
def test_a_new_source_is_drafted_corrected_checked_saved_and_loaded(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    monkeypatch.setattr(mappings, "MAPPINGS_DIR", folder)  # the page saves into pipelines/mappings/: here, a copy
    file, gross_cents = sample_file(tmp_path)
    db = tmp_path / "tandem.duckdb"
    at = _onboarding(db, monkeypatch, file)

    # the draft as a form: what it found in the file, each column's source and the reason beside it
    assert [_select(at, label).value for label in ("Encoding", "Delimiter", "Decimal separator",
                                                   "Thousands separator")] == ["utf-8", ";", ",", "."]
    assert next(n for n in at.number_input if n.label == "Header on line").value == 3
    assert next(t for t in at.text_input if t.label == "Currency symbols").value == "€"
    assert next(m for m in at.multiselect if m.label.startswith("Date formats")).value == ["%d.%m.%Y"]
    assert _select(at, "Source of amount").value == "Betrag netto"  # the draft's guess: the first "Betrag" column
    assert _select(at, "Source of currency").value == CONSTANT
    assert next(t for t in at.text_input if t.label == "Constant or default of currency").value == "EUR"
    assert _select(at, "Source of po_id").value == NOT_MAPPED
    captions = [c.value for c in at.caption]
    assert any(c.startswith("from Betrag netto — the name resembles") for c in captions)
    # the check, as `tandem mapping check` counts: 40 rows, the one with 31.02.2024 would be quarantined
    assert [(m.label, m.value) for m in at.metric] == [("Rows read", "40"), ("Would load", "39"),
                                                       ("Would be quarantined", "1"), ("Left out on purpose", "0")]
    texts = [t.value for t in at.text]
    assert f"{NAME}.csv, line 7, column invoice_date: required (value empty)" in texts

    # the guess corrected: the amount is the gross one; the check runs again on the whole file
    _select(at, "Source of amount").set_value("Betrag brutto")
    _button(at, "Check the mapping").click().run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["40", "39", "1", "0"]
    preview = at.dataframe[0].value
    assert (preview["line"][1], preview["amount"][1]) == (5, 1_567_432.20)  # 1.317.169,92 € net; × 1.19, in cents

    # saved: exactly the mapping meant, with the draft's reasons and the correction said
    _button(at, "Save mapping").click().run()
    saved = folder / f"{NAME}.yaml"
    assert at.success[0].value.startswith(f"Saved as pipelines/mappings/{NAME}.yaml")
    text = saved.read_text(encoding="utf-8")
    assert yaml.safe_load(text) == EXPECTED
    assert "# amount: set on the Data page (the draft: from Betrag netto)" in text
    assert "# invoice_date: dates as %d.%m.%Y, which reads every sample value" in text
    assert load_mapping(saved) == Mapping.model_validate(EXPECTED)
    assert _select(at, "Source mapping").value == NEW  # the new mapping is an option now; the choice stays

    # loaded with it: the valid rows, the bad one quarantined, the gross total to the cent
    next(c for c in at.checkbox if "allow-partial" in c.label).check().run()
    _button(at, "Load 1 file(s) with this mapping").click().run()
    assert not at.exception
    assert at.status[0].label == "Loaded"
    result = next(d.value for d in at.dataframe if "outcome" in d.value.columns)
    assert result[["file", "outcome", "read", "loaded", "quarantined"]].values.tolist() == [
        [f"{NAME}.csv", "partial", 40, 39, 1]]
    with reading(db) as con:
        total, n = con.execute("SELECT round(sum(amount) * 100), count(*) FROM invoices").fetchone()
        assert (int(total), n) == (gross_cents, 39)
        assert con.execute("SELECT mapping, rows_quarantined FROM load_log").fetchall() == [(NAME, 1)]
        assert con.execute("SELECT line, column_name, rule FROM quarantine ORDER BY column_name").fetchall() == [
            (7, "due_date", "required"), (7, "invoice_date", "required")]


@pytest.mark.apptest
def test_a_viewer_sees_no_upload_and_no_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DB", str(tmp_path / "t.duckdb"))
    monkeypatch.setenv("TANDEM_ROLES", json.dumps({"users": {"vic@example.com": {"role": "viewer"},
                                                             "eve@example.com": {"role": "editor"}}}))
    seen = {}
    for who in ("vic@example.com", "eve@example.com"):
        at = signed_in_page(who, "pages/data.py")
        seen[who] = (len(at.get("file_uploader")), [s.label for s in at.selectbox], [b.label for b in at.button])
    assert seen["vic@example.com"] == (0, [], [])
    assert seen["eve@example.com"][0] == 1 and "Source mapping" in seen["eve@example.com"][1]


@pytest.mark.apptest
def test_hostile_headers_and_cells_are_shown_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file, _ = sample_file(tmp_path)
    at = _onboarding(tmp_path / "t.duckdb", monkeypatch, file)
    options = _select(at, "Source of item_id").options
    assert "Vermerk⟨U+202E⟩TXT.exe" in options and "**Notiz**" in options and "<b>Prüfer</b>" in options
    # every caption (Markdown) has the file's text escaped: no HTML, no emphasis, no control characters
    shown = " ".join(c.value for c in at.caption)
    assert "\u202e" not in shown and "<b>" not in shown
    preview = at.dataframe[0].value
    assert "=1+1" in set(preview["category"])  # a cell is data: shown as written, never run


# --- the form's pieces -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["zahlungen", "bradford_spend_2018-01", "nfe_federal_purchases_2024-01",
                                  "scms_delivery_history_cut"])
def test_the_drafts_settings_said_once_read_every_row_as_the_draft_does(tmp_path: Path, name: str) -> None:
    file = sample_file(tmp_path)[0] if name == "zahlungen" else SAMPLES / f"{name}.csv"
    d = drafted(file)
    before, after = check_file(file, d.mapping, rows=100_000), check_file(file, shared(d), rows=100_000)
    assert (after.rows_read, after.rows_valid, after.rows_invalid) == (before.rows_read, before.rows_valid,
                                                                      before.rows_invalid)
    assert after.preview.equals(before.preview, null_equal=True)  # every row, every value


def test_a_column_that_reads_its_values_otherwise_keeps_its_own_setting(tmp_path: Path) -> None:
    # amounts with decimal commas, a quantity with '.' decimals: the shared style is the amounts'; the quantity
    # keeps its own (2.5 is not 25), the dates share theirs
    f = tmp_path / "invoices_x.csv"
    f.write_text("invoice_id;supplier_id;category;cost_center;gl_account;invoice_date;due_date;quantity;amount;"
                 "currency\n" + "".join(f"I{i};S1;IT;CC;6000;0{i}.01.2024;3{i}.01.2024;2.5;1.234,5{i};EUR\n"
                                        for i in range(1, 10)), encoding="utf-8")
    d = drafted(f)
    m = shared(d)
    assert (m.parsing.decimal_separator, m.parsing.thousands_separator, m.parsing.date_format) == (",", ".",
                                                                                                  ["%d.%m.%Y"])
    assert m.columns("invoices")["quantity"].decimal_separator == "."
    rows = check_file(f, m, rows=20).preview
    assert rows["quantity"].to_list() == [2.5] * 9 and rows["amount"][0] == 1234.51


@pytest.mark.parametrize("name", ["gla", "sap"])
def test_a_mapping_written_back_as_data_reads_as_itself(name: str) -> None:
    m = load_mapping(name)
    data = mapping_data(m)
    assert Mapping.model_validate(yaml.safe_load(mappings.yaml_text(data))) == m

    def leaves(node: object) -> list[object]:
        return [x for v in node.values() for x in leaves(v)] if isinstance(node, dict) else [node]

    assert "trim" not in data and None not in leaves(data)  # what a default says is left out


def test_choices_become_a_mapping_and_what_it_cannot_say_is_a_sentence(tmp_path: Path) -> None:
    d = drafted(sample_file(tmp_path)[0])
    base = shared(d)
    values = onboarding.reading_of(base)
    m = edited(base, "invoices", {"amount": Choice("Betrag brutto"), "currency": Choice(CONSTANT, "CHF"),
                                  "item_id": Choice("**Notiz**", "none")}, values)
    cols = m.columns("invoices")
    assert (cols["amount"].from_, cols["currency"].value) == (["Betrag brutto"], "CHF")
    assert (cols["item_id"].from_, cols["item_id"].default) == (["**Notiz**"], "none")
    assert cols["due_date"] == base.columns("invoices")["due_date"]  # not touched: as drafted
    for choices, sentence in [
        ({"supplier_id": Choice(NOT_MAPPED)}, "supplier_id is required: choose the file's column it comes from"),
        ({"currency": Choice(CONSTANT, " ")}, "currency: give the constant's value"),
    ]:
        with pytest.raises(TandemError, match=sentence):
            edited(base, "invoices", choices, values)
    with pytest.raises(TandemError, match="The mapping is not valid: parsing.thousands_separator: a separator is one "
                                          "character, not '::'"):
        edited(base, "invoices", {}, Reading(decimal=",", thousands="::"))


def test_the_data_page_imports_no_pandera_until_a_file_is_checked(demo_db: Path, tmp_path: Path) -> None:
    """The page without an upload, run in a fresh interpreter (sys.modules is honest there): no pandera (2 s of
    imports, pandas' own ~1 s among them); ingestion is imported when a file is drafted, checked or loaded.
    (Pandas itself comes with Streamlit's tables.)"""
    import shutil
    import subprocess
    import sys

    db = tmp_path / "t.duckdb"
    shutil.copy(demo_db, db)
    script = f"""
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=120).run()
at.switch_page("pages/data.py").run()
assert not at.exception and at.dataframe, [e.message for e in at.exception]
print("HEAVY", [m for m in ("pandera", "pipelines.schemas", "pipelines.load", "pipelines.draft") if m in sys.modules])
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "TANDEM_DB": str(db)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HEAVY []" in proc.stdout


def test_freshness_lists_every_declared_type_even_one_without_a_table_yet(golden_db: Path, tmp_path: Path) -> None:
    from store.exports import EXPORT_TYPES, declared, export_type

    fresh = onboarding.freshness(golden_db)
    assert sorted(fresh["export_type"]) == sorted(EXPORT_TYPES)
    with reading(golden_db) as con:
        invoices = con.execute("SELECT count(*), max(invoice_date) FROM invoices").fetchone()
    row = fresh.filter(pl.col("export_type") == "invoices").row(0, named=True)
    assert (row["rows_in_database"], row["data_until"]) == (invoices[0], str(invoices[1]))
    # an export type declared after the database was written has no table: listed with no rows, no error
    with declared(export_type("deliveries", "delivery_id str, delivered_on date", ("delivery_id",),
                              dated="delivered_on")):
        fresh = onboarding.freshness(golden_db)
    row = fresh.filter(pl.col("export_type") == "deliveries").row(0, named=True)
    assert (row["rows_in_database"], row["data_until"], row["last_load"]) == (0, None, None)
