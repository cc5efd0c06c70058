"""The dashboard's shared widget helpers: gaps, the side-by-side table, Markdown-safe data text."""

from __future__ import annotations

import polars as pl

from kpi_definitions.registry import registry
from kpi_definitions.views import gap, relative_gap
from tandem.widgets import plain, side_by_side


def test_data_text_is_escaped_for_markdown() -> None:
    assert plain("**S1** [x](javascript:alert(1)) :red[y] <b>") == (
        r"\*\*S1\*\* \[x\]\(javascript\:alert\(1\)\) \:red\[y\] \<b\>")
    assert plain("Acme GmbH · 2026-10") == r"Acme GmbH · 2026\-10"


def test_gaps_are_finance_minus_procurement() -> None:
    assert gap(883_213.0, 152_437.0) == 730_776.0 and gap(None, 1.0) is None
    assert relative_gap(-200.0, 60.0) == 260 / 200  # the gap over the larger magnitude
    assert relative_gap(0.0, 0.0) == 0.0 and relative_gap(1.0, None) is None


def test_side_by_side_is_one_row_per_slice_largest_first() -> None:
    values = pl.DataFrame({
        "kpi": ["savings"] * 4, "view": ["finance", "procurement", "finance", "procurement"],
        "period": ["2026-01"] * 4, "category": ["IT", "IT", "LOG", "LOG"], "value": [-10.0, 20.0, -160.0, None]})
    table = side_by_side(values, registry()["savings"], ("category",), "EUR")
    assert table.rows() == [("2026-01", "LOG", -160.0, None, None),  # numbers: only the screen formats them
                            ("2026-01", "IT", -10.0, 20.0, -30.0)]
    assert table.columns == ["period", "category", "Finance", "Procurement", "Gap (F − P)"]


def test_tables_show_dates_as_dates() -> None:
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        from datetime import date

        import polars as pl

        from tandem import widgets

        widgets.table(pl.DataFrame({"invoice_id": ["I1"], "invoice_date": [date(2026, 10, 1)]}))

    at = AppTest.from_function(page, default_timeout=60).run()  # the first Styler imports jinja2
    assert not at.exception
    shown = at.dataframe[0]
    assert shown.value["invoice_date"].astype(str).tolist() == ["2026-10-01"]
    assert '"format":"YYYY-MM-DD"' in shown.proto.columns.replace(" ", "")


def test_tables_show_the_one_number_format_while_cells_stay_numbers() -> None:
    """On screen −EUR 60,970, a signed gap, "—" for nothing; underneath, numbers (a column sorts as numbers)."""
    import io

    import pyarrow as pa
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        import polars as pl

        from tandem import widgets

        widgets.table(pl.DataFrame({"Supplier": ["S0007", None], "Finance": [-60970.4, 1234.0],
                                    "Gap (F − P)": [-50.0, 0.2], "Quantity": [1500.5, None]}),
                      {"Finance": "currency", "Gap (F − P)": "days"})

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    shown = at.dataframe[0]
    assert shown.value["Finance"].tolist() == [-60970.4, 1234.0]  # the data: numbers
    display = pa.ipc.open_stream(io.BytesIO(shown.proto.arrow_data.styler.display_values)).read_all().to_pydict()
    assert display["Finance"] == ["−EUR 60,970", "EUR 1,234"]
    assert display["Gap (F − P)"] == ["−50.0 days", "+0.2 days"]
    assert display["Quantity"] == ["1,500.50", "—"] and display["Supplier"] == ["S0007", "—"]
    # the grid draws a missing cell itself ("None", whatever the Styler says) unless told its placeholder
    assert shown.proto.placeholder == "—"


def test_a_very_long_listing_keeps_separators_and_shows_nothing_as_a_dash() -> None:
    """Above STYLED_CELLS (a Styler would take seconds) the lines still read 1,234.5 and "—", never None."""
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        import polars as pl

        from tandem import widgets

        n = widgets.STYLED_CELLS // 2 + 1  # two columns: one cell over the limit
        widgets.table(pl.DataFrame({"Supplier ID": [None] + ["S0007"] * (n - 1), "Amount": [1234.5] * n}))

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    shown = at.dataframe[0]
    assert shown.value["Supplier ID"].iloc[0] == "—" and shown.value["Amount"].iloc[0] == 1234.5
    assert '"format":"localized"' in shown.proto.columns.replace(" ", "")


def test_a_column_named_as_in_the_data_is_headed_in_words() -> None:
    from streamlit.testing.v1 import AppTest

    from reports.formats import header as readable

    assert [readable(c) for c in ("supplier_id", "cost_center", "po_line", "Gap (F − P)", "Supplier")] == [
        "Supplier ID", "Cost center", "PO line", "Gap (F − P)", "Supplier"]

    def page() -> None:
        import polars as pl

        from tandem import widgets

        widgets.table(pl.DataFrame({"supplier_id": ["S0007"], "Finance": [1.0]}), {"Finance": "currency"})

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    config = at.dataframe[0].proto.columns  # the header the grid shows; the data keeps its name for files
    assert '"supplier_id":{"label":"SupplierID"}' in config.replace(" ", "")
    assert list(at.dataframe[0].value.columns) == ["supplier_id", "Finance"]
