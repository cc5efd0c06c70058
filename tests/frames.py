"""Tables compared as a rebuild would make them: the same rows, floats to the cent (sums of the same lines added
in another order differ in the last bits)."""

from __future__ import annotations

import polars as pl


def same_tables(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    """Each table of `a` equals the one of `b` (both sorted the same way), column by column."""
    for t, x in a.items():
        y = b[t].select(x.columns).cast(x.schema)
        assert x.height == y.height, t
        for col in x.columns:
            if x[col].dtype == pl.Float64:
                assert x[col].null_count() == y[col].null_count(), (t, col)
                assert ((x[col] - y[col]).abs().fill_null(0) < 0.005).all(), (t, col)
            else:
                assert x[col].equals(y[col]), (t, col)
