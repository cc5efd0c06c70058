"""Configuration from environment variables (prefix TANDEM_), with the contract's defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_", extra="ignore")

    db: Path = Field(default=PROJECT_ROOT / "data" / "tandem.duckdb", description="DuckDB database file")
    reporting_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    max_upload_mb: int = Field(default=200, ge=1, description="largest file the Data page accepts")
    memory_limit: str = Field(default="2GB", description="DuckDB memory limit for a load")
    lock_wait_s: float = Field(default=5.0, ge=0, description="how long a load waits for readers to let go")
    cost_of_capital: float = Field(default=0.08, ge=0, le=1, description="a year, for payment-terms scenarios")
    max_xlsx_unpacked_mb: int = Field(default=512, ge=1, description="largest size a workbook may unpack to")
    max_xlsx_rows: int = Field(default=1_048_576, ge=1, description="most rows a workbook sheet may declare")
    max_xlsx_ratio: int = Field(default=100, ge=1, description="how many times its packed size a workbook past 32 MB "
                                                               "may unpack to (more: a zip bomb)")
    # The engine that computes the KPIs (docs/spark.md): DuckDB on the database file, or Spark on a lake
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="duckdb (the database file) or spark "
                                               "(the lake in TANDEM_LAKE, on TANDEM_SPARK_REMOTE)")
    lake: Path | None = Field(default=None, description="a lake folder (`tandem lake export`): kept current by every "
                              "load, and read by the spark engine")
    spark_remote: str | None = Field(default=None, description="where Spark runs: sc://host:port (Spark Connect) or a "
                                     "master URL (spark://..., yarn); default local[2]")
    # Login (docs/serving.md)
    auth_secrets: Path | None = Field(default=None, description="a secrets TOML file with the [auth] section for login; "
                                      "default: .streamlit/secrets.toml in the project folder or ~/.streamlit/")
    roles_file: Path = Field(default=PROJECT_ROOT / ".streamlit" / "roles.toml",
                             description="who is on which team with which role (TOML or YAML)")
    roles: dict[str, Any] | None = Field(default=None, description="the same as JSON; replaces the roles file when set")
    group_claim: str = Field(default="groups", description="the ID-token claim holding the user's groups")
    login_hours: float = Field(default=12, gt=0, description="how long a sign-in lasts before the user signs in "
                                                             "again (the login cookie's lifetime, checked by the server)")
    signouts_file: Path | None = Field(default=None, description="where sign-outs are kept (SQLite), so a copied "
                                       "login cookie stops working; default: <database>.signouts.sqlite beside it")
    # Agreed definitions (docs/agreements.md): who must approve a proposal before it counts
    approval_teams: tuple[str, ...] = Field(default=("finance", "procurement"),
                                            description="teams that must each approve a proposal (the proposer's "
                                                        "own team counts by proposing)")
    approvers_per_team: int = Field(default=1, ge=1, description="approvals each team must give")
    require_verified_approval: bool = Field(
        default=False, description="refuse approvals of proposals and targets from identities that did not sign in "
                                   "(local mode without login, where a name and team are only stated)")
    finance_approval_above: float | None = Field(
        default=None, ge=0, description="a savings effect (|agreed − procurement| over the data) above which "
                                        "finance must approve even when approval_teams leaves it out")
    # The savings ledger (docs/savings-ledger.md): the evidence an initiative needs before it may be moved to
    # "realised": its contract, and invoice lines under it in this many months of its savings window.
    savings_evidence_months: int = Field(default=3, ge=0, le=36,
                                         description="months with invoice lines under the contract before realised")


def settings() -> Settings:
    return Settings()
