"""Inventory days: all stock (finance) against stock above safety stock (procurement)."""

from __future__ import annotations

from tandem import kpi_page

kpi_page.show("inventory_days")
