"""Views side by side (kpi_definitions/views.py): labels, colours, the base view and the gaps, for any number of views."""

from __future__ import annotations

import polars as pl

from kpi_definitions import views
from kpi_definitions.registry import Kpi, Registry, registry

BASE = registry()["savings"].model_dump(by_alias=True)


def three(**agreed: object) -> Kpi:
    """Savings with a third view, `agreed` (finance's SQL), declaring only what is given."""
    view = {k: v for k, v in BASE["views"]["finance"].items() if k not in ("label", "colour")} | agreed
    return Kpi.model_validate({**BASE, "views": {**BASE["views"], "agreed": view}})


def test_two_views_read_as_they_always_did() -> None:
    kpi = registry()["savings"]
    assert [views.style(kpi, v) for v in kpi.views] == [views.ViewStyle("finance", "Finance", "blue"),
                                                        views.ViewStyle("procurement", "Procurement", "orange")]
    assert views.base(kpi) == "procurement"
    assert [(g.header, g.words) for g in views.gaps(kpi)] == [("Gap (F − P)", "finance − procurement")]
    assert views.named(registry()) == "finance and procurement"


def test_an_undeclared_view_is_gray_and_named_after_itself_and_gap_base_moves_the_base() -> None:
    kpi = three()
    assert views.style(kpi, "agreed") == views.ViewStyle("agreed", "Agreed", "gray")
    assert [g.header for g in views.gaps(kpi)] == ["Gap (F − P)", "Gap (A − P)"]
    based = Kpi.model_validate(kpi.model_dump(by_alias=True) | {"gap_base": "agreed"})
    assert [(g.view, g.base, g.header) for g in views.gaps(based)] == [("finance", "agreed", "Gap (F − A)"),
                                                                      ("procurement", "agreed", "Gap (P − A)")]
    assert views.named(Registry({"savings": kpi})) == "finance, procurement and agreed"


def test_side_by_side_has_a_column_per_view_and_per_gap() -> None:
    kpi = three(label="Joint", colour="violet")
    values = pl.DataFrame({"kpi": ["savings"] * 3, "view": ["finance", "procurement", "agreed"],
                           "period": ["2026-01"] * 3, "value": [-200.0, 60.0, 20.0]})
    wide = views.side_by_side(values, kpi)
    assert wide.rows() == [("2026-01", -200.0, 60.0, 20.0, -260.0, -40.0)]
    assert wide.columns == ["period", "finance", "procurement", "agreed", "gap_finance", "gap_agreed"]
    compared = views.compare(kpi, values)
    assert compared.gaps == {"gap_finance": -260.0, "gap_agreed": -40.0}
    assert compared.relative_gap == 260 / 200  # the widest gap over the largest magnitude
    assert views.spread([1.0, None]) is None and views.spread([0.0, 0.0, None]) == 0.0


def test_a_view_looks_the_same_on_every_kpi(tmp_path) -> None:
    import shutil

    from kpi_definitions.registry import HERE, SQL_DIR, parse

    for f in HERE.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "payment_days.yaml"
    path.write_text(path.read_text().replace("colour: orange", "colour: violet"))
    _, issues = parse(tmp_path, SQL_DIR)
    assert [(i.kpi, i.field) for i in issues] == [("payment_days", "views.procurement")]
