"""Ingestion: read exports, map their columns, validate them with pandera and load them into DuckDB."""
