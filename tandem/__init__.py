"""Tandem: every KPI under each team's definition, side by side, from one definition layer."""
