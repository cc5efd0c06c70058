"""Ingestion: read exports, map their columns, validate them with pandera and load them into DuckDB."""

import warnings

# pandera imports pandas-on-Spark whenever pyspark is installed (pyspark is, for the lake's checks), and
# PySpark 4.3 then warns that it does not fully support pandas 3: a line on every load that nobody can act on.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
