"""The audit log: append-only, with who (verified or not), when, what, the action and before/after."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import duckdb
import pytest

from decisions import audit
from decisions.identity import Identity

ANA = Identity("ana@corp.example", "Ana", "finance", "editor", True)
LOCAL = Identity("me@localhost", "Me", "procurement", "admin", False)


def test_records_are_appended_and_exported_with_unverified_marked(con: duckdb.DuckDBPyConnection) -> None:
    audit.record(con, ANA, "proposal", 1, "proposed", None, {"counts": ["mix"]})
    audit.record(con, LOCAL, "proposal", 1, "approved", {"status": "pending"}, {"status": "approved"})
    log = audit.entries(con)
    assert log.select("email", "team", "verified", "entity_type", "entity_id", "action").rows() == [
        ("ana@corp.example", "finance", True, "proposal", "1", "proposed"),
        ("me@localhost", "procurement", False, "proposal", "1", "approved")]
    assert json.loads(log["after_json"][1]) == {"status": "approved"} and log["before_json"][0] is None
    shown = audit.export_frame(log)
    assert shown["Identity"].to_list() == ["verified", "unverified"]
    with pytest.raises(ValueError, match="an audit action is one of"):
        audit.record(con, ANA, "proposal", 1, "deleted")  # type: ignore[arg-type]
    assert audit.entries(con).height == 2


def test_the_module_offers_no_way_to_change_or_remove_an_entry() -> None:
    source = Path(audit.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    strings = " ".join(n.value.upper() for n in ast.walk(tree) if isinstance(n, ast.Constant)
                       and isinstance(n.value, str))
    assert "UPDATE " not in strings and "DELETE " not in strings and "DROP " not in strings
    assert "TRUNCATE" not in strings
    public = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    assert public == {"record", "entries", "export_frame"}


def test_nothing_else_in_tandem_writes_to_the_log() -> None:
    root = Path(audit.__file__).resolve().parents[1]
    for path in [*root.glob("tandem/**/*.py"), *root.glob("pages/*.py"), *root.glob("store/*.py")]:
        if path.name == "audit.py":
            continue
        text = path.read_text(encoding="utf-8").lower()
        assert "into audit_log" not in text and "update audit_log" not in text and "from audit_log" not in text \
            or path.name == "audit.py", path
