"""Tandem: finance and procurement KPIs from one definition layer, side by side."""
