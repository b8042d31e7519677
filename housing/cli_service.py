"""``housing serve``, ``housing user add`` and ``housing office add``: the web service and
its staff, on ``DATABASE_URL`` or the embedded SQLite file."""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from typing import Annotated

import typer
from rich.markup import escape
from sqlmodel import Session

from agency import db, records
from agency.audit import Actor
from agency.models import Role
from housing.extras import needs
from housing.ui import console, err

user_app = typer.Typer(name="user", no_args_is_help=True, help="Staff users of the service.")
office_app = typer.Typer(name="office", no_args_is_help=True, help="The agency's offices.")
serve_app = typer.Typer(name="serve", help="The agency's service and the staff's pages.")


@user_app.callback()
def _users() -> None:
    """Staff users of the service."""


@office_app.callback()
def _offices() -> None:
    """The agency's offices."""


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite file (default: DATABASE_URL, else var/housing.sqlite3).",
    ),
]


def _actor() -> Actor:
    return Actor(username=f"cli:{os.environ.get('HOUSING_OPERATOR') or getpass.getuser()}")


def _session(url: str | None) -> Session:
    try:
        return Session(db.get_engine(url))
    except db.SchemaError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc


@serve_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    url: DbOption = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Processes serving the port (PostgreSQL: jobs and logins live in the "
            "database, so any process serves any request).",
        ),
    ] = 1,
    log_format: Annotated[
        str | None,
        typer.Option(help="text or json (one object a line); default HOUSING_LOG_FORMAT."),
    ] = None,
) -> None:
    """Serve the API (/api/v1, OpenAPI at /openapi.json) and the staff's pages.

    Solves and scenario runs are jobs in the database, run by this process's workers (a
    scenario run in a child process that stops with the server); after a restart the
    jobs a dead process held are marked interrupted. The access log names routes, never
    query strings (a search may hold a name); HOUSING_LOG_FORMAT=json (or --log-format
    json) writes one JSON object a line. X-Forwarded-For is believed only from
    HOUSING_TRUSTED_PROXIES. /metrics answers Prometheus (HOUSING_METRICS_TOKEN).
    """
    with needs("service", "housing serve"):
        import uvicorn

        from api.main import create_app
        from api.metrics import MULTIPROC_ENV, logging_configured
        from api.settings import Settings

    settings = Settings() if url is None else Settings(database_url=db.database_url(url))
    where = escape(db.database_url(settings.database_url).split("@")[-1])
    try:  # migrated (SQLite) or checked once, before any worker starts
        db.get_engine(settings.database_url)
    except db.SchemaError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    options: dict[str, object] = dict(
        host=host,
        port=port,
        log_level=log_level.lower(),
        log_config=None,  # our handlers (JSON or text)
        access_log=False,
        server_header=False,
        proxy_headers=False,  # X-Forwarded-For: only from HOUSING_TRUSTED_PROXIES, in the app
    )
    with logging_configured(log_level, log_format):
        if workers == 1:
            app = create_app(settings)
            console.print(f"housing-match on http://{host}:{port}/ (database {where})")
            uvicorn.run(app, **options)  # type: ignore[arg-type]
            return
        if db.is_sqlite(db.database_url(settings.database_url)):
            err.print(
                "[yellow]several workers on the embedded SQLite file take turns at its "
                "write lock: use PostgreSQL for --workers (docs/deployment.md)[/yellow]"
            )
        db.dispose_engines()  # each worker process opens its own
        with tempfile.TemporaryDirectory(prefix="housing-metrics-") as folder:
            # what the worker processes read: the database, the logs' form, and where
            # every worker's request and job metrics are summed at each scrape
            os.environ["HOUSING_DATABASE_URL"] = db.database_url(settings.database_url)
            os.environ["HOUSING_LOG_LEVEL"] = log_level
            if log_format is not None:
                os.environ["HOUSING_LOG_FORMAT"] = log_format
            os.environ.setdefault(MULTIPROC_ENV, folder)
            console.print(
                f"housing-match on http://{host}:{port}/ ({workers} processes, database {where})"
            )
            uvicorn.run("api.main:worker_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name: lowercase, e.g. anna.rossi.")],
    role: Annotated[Role, typer.Option(help="admin, caseworker, planner or auditor.")],
    office: Annotated[str | None, typer.Option(help="Office code (a caseworker's office).")] = None,
    full_name: Annotated[
        str | None, typer.Option(help="Full name (default: the username).")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input (one line)."),
    ] = False,
    url: DbOption = None,
) -> None:
    """Add a staff user; the password is prompted for (or read from stdin), argon2-hashed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session(url) as s:
        try:
            office_id = records.office_by_code(s, office).id if office else None
            user = records.create_user(
                s, _actor(), username, full_name or username, password, role, office_id
            )
            s.commit()
        except (records.RecordError, records.NotFoundError) as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
        console.print(
            f"user {user.username} ({user.role}) added" + (f" to office {office}" if office else "")
        )


def _user_change(action: str, username: str, url: str | None) -> None:
    with _session(url) as s:
        try:
            change = records.deactivate_user if action == "deactivate" else records.reactivate_user
            change(s, _actor(), username)
            s.commit()
        except (records.RecordError, records.NotFoundError) as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
    console.print(f"user {username} {action}d")


@user_app.command("deactivate")
def user_deactivate(
    username: Annotated[str, typer.Argument(help="Login name.")], url: DbOption = None
) -> None:
    """The user can no longer log in (never the last active admin)."""
    _user_change("deactivate", username, url)


@user_app.command("reactivate")
def user_reactivate(
    username: Annotated[str, typer.Argument(help="Login name.")], url: DbOption = None
) -> None:
    """A deactivated user may log in again."""
    _user_change("reactivate", username, url)


@office_app.command("add")
def office_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. FG.")],
    name: Annotated[str, typer.Argument(help="Name, e.g. 'Foggia'.")],
    province: Annotated[str | None, typer.Option(help="Province code, e.g. FG.")] = None,
    url: DbOption = None,
) -> None:
    """Add an office (caseworkers see the cases of their own office only)."""
    with _session(url) as s:
        try:
            records.create_office(s, _actor(), code, name, province)
            s.commit()
        except records.RecordError as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
    console.print(f"office {code} added")
