"""Payment days: days actually taken to pay (finance) against the terms agreed with suppliers (procurement)."""

from __future__ import annotations

from tandem import kpi_page

kpi_page.show("payment_days")
