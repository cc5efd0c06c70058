"""The one exception every layer raises for a problem a user can act on, carrying the contract's exit status."""

from __future__ import annotations

USAGE, FAILURE, REJECTED = 2, 1, 3


class TandemError(Exception):
    """A problem a user can act on, stated in one sentence; `exit_code` follows contract section 4."""

    def __init__(self, message: str, exit_code: int = REJECTED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Busy(TandemError):
    """The database is held by a load (this server's own write, or another process's): readers wait for it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILURE)


class LakeError(TandemError):
    """A lake (Parquet files and their manifest, store/lake.py) that cannot be written or read as it is, or a Spark
    engine that cannot be reached: one sentence saying what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILURE)
