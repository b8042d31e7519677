"""The service's settings, from the environment (prefix ``HOUSING_``) or arguments.

``DATABASE_URL`` (or ``HOUSING_DATABASE_URL``) names the database; without it the
embedded SQLite file ``var/housing.sqlite3`` is used, created and migrated on first use.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOUSING_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("HOUSING_DATABASE_URL", "DATABASE_URL")
    )
    # sessions
    idle_timeout_minutes: float = Field(default=30.0, gt=0)
    session_max_hours: float = Field(default=12.0, gt=0)
    # None: Secure cookies except on plain HTTP to localhost (local development)
    cookie_secure: bool | None = None
    # addresses of reverse proxies whose X-Forwarded-For/-Proto are believed (none: no
    # proxy, the peer's address is the client's); e.g. "127.0.0.1" behind a local nginx
    trusted_proxies: str | None = None
    # HSTS max-age sent on HTTPS responses
    hsts_seconds: int = Field(default=31_536_000, ge=0)
    # failed logins: a growing delay from the first failure, then 429 after the limit
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    login_delay_base_seconds: float = Field(default=0.25, ge=0)
    login_delay_max_seconds: float = Field(default=4.0, ge=0)
    # requests
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_page_size: int = Field(default=200, ge=1, le=200)
    # background jobs (in the database; fair shares per office / per planner)
    solve_workers: int = Field(default=1, ge=1, le=8)
    max_solve_seconds: float = Field(default=300.0, gt=0, le=3600)
    max_queued_solves_per_office: int = Field(default=5, ge=1)
    scenario_workers: int = Field(default=1, ge=1, le=8)
    max_queued_runs_per_planner: int = Field(default=2, ge=1)
    scenario_max_runs: int = Field(default=25, ge=1)
    scenario_max_sweep_points: int = Field(default=20, ge=1)
    scenario_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    # the child's start (imports) and its report, past the run's own limit
    scenario_grace_seconds: float = Field(default=20.0, ge=0)
    # /health says disk_full below this much free space (the embedded file's disk)
    min_free_disk_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # /metrics: the bearer token Prometheus sends (None: only an admin's token)
    metrics_token: str | None = Field(default=None, min_length=16)
    # /health says jobs stalled when a queued job has waited this long (workers not taking)
    job_queue_max_wait_seconds: float = Field(default=900.0, gt=0)
    # pages
    default_language: str = Field(default="it", pattern="^(it|en)$")
