"""Named SQL: every `.sql` file of the project is read here, and referred to by its name."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class Queries:
    """The named queries of one folder: `Queries(folder)["facts"]` is the text of `folder/facts.sql`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.sql"

    def __contains__(self, name: str) -> bool:
        return self.path(name).is_file()

    def __getitem__(self, name: str) -> str:
        return _text(self.path(name))

    def statements(self, name: str) -> list[str]:
        """The file's statements, one by one (DuckDB binds parameters one statement at a time)."""
        return [s for s in self[name].split(";\n") if s.strip()]
