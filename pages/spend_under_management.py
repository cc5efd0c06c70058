"""Spend under management: spend with a PO (finance) against spend on a valid contract (procurement)."""

from tandem import kpi_page

kpi_page.show("spend_under_management")
