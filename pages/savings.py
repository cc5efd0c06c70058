"""Savings: negotiated price cuts (procurement) against the drop in actual spend year over year (finance)."""

from __future__ import annotations

from tandem import kpi_page

kpi_page.show("savings")
