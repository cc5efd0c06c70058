"""Spend under management: spend with a PO (finance) against spend on a valid contract (procurement)."""

from __future__ import annotations

from tandem import kpi_page

kpi_page.show("spend_under_management")
