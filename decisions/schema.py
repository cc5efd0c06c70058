"""The decisions layer's tables, as its numbered migrations (decisions/migrations/NNN_*.sql), run by writers
when they open the database (store/schema.py)."""

from __future__ import annotations

from pathlib import Path

from store.schema import Schema

SCHEMA = Schema.from_folder("decisions", Path(__file__).parent / "migrations")
