"""Inventory days: all stock (finance) against stock above safety stock (procurement)."""

from tandem import kpi_page

kpi_page.show("inventory_days")
