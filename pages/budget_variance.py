"""Budget variance: budget minus invoiced actuals (finance) against budget minus committed orders (procurement)."""

from __future__ import annotations

from tandem import kpi_page

kpi_page.show("budget_variance")
