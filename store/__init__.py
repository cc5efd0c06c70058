"""The store: Tandem's DuckDB file (opening, transactions, named SQL, the canonical tables). Imports nothing of the project."""
