"""docs/deployment.md and deploy/ as tests, as tests/test_readme.py does for the README.

Every ``housing`` line of the guide's ```sh blocks runs, in order, through Typer's
CliRunner (``export`` lines set the environment; ``printf '%s\\n' X | housing ...`` feeds
X on standard input), with the machine's paths and databases moved: the production
database to a fresh one (a PostgreSQL schema when TEST_DATABASE_URL is set, else a
SQLite file), the restore's target to another empty one, ``/var/backups/housing`` to a
temporary folder and a named backup to the newest one there. The systemd units' commands
run too (the service's with uvicorn replaced), the units pass ``systemd-analyze verify``
and the nginx configuration ``nginx -t`` with a self-signed certificate, when those
tools are installed; and the settings file gives the settings the guide promises.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from agency.backup import MANIFEST, Manifest, table_digests
from agency.db import current_revision, dispose_engines, head_revision, make_engine
from api.settings import Settings
from housing.cli import app as cli
from tests.conftest import postgres_engine

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "deployment.md"
DEPLOY = ROOT / "deploy"
SH_BLOCK = re.compile(r"^```sh[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PIPED = re.compile(r"^printf '%s\\n' (?P<text>'[^']*'|\S+) \| (?P<cmd>housing .*)$")
PROD_URL = "postgresql://housing@/housing?host=/var/run/postgresql"
NEW_URL = "postgresql://housing@/housing_new?host=/var/run/postgresql"
BACKUPS = "/var/backups/housing"


def guide_lines(text: str) -> list[tuple[str, list[str], str | None]]:
    """(kind, argv, stdin) for each line of the ```sh blocks: ``export`` (argv is
    [name, value]) or ``housing`` (argv without the program name)."""
    out: list[tuple[str, list[str], str | None]] = []
    for block in SH_BLOCK.findall(text):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                out.append(("export", [name, shlex.split(value)[0]], None))
                continue
            stdin = None
            piped = PIPED.match(line)
            if piped:
                stdin = shlex.split(piped["text"])[0] + "\n"
                line = piped["cmd"]
            if line.startswith("housing "):
                out.append(("housing", shlex.split(line, comments=True)[1:], stdin))
            elif line and not line.startswith("#"):
                raise AssertionError(f"a line of an sh block no test runs: {line!r}")
    return out


def test_guide_parser() -> None:
    text = (
        "```sh\nexport DATABASE_URL='x?y=1'\nhousing a b  # note\n"
        "printf '%s\\n' 'two words' | housing user add u --password-stdin\n```\n"
        "```console\nsystemctl start x\n```\n"
    )
    assert guide_lines(text) == [
        ("export", ["DATABASE_URL", "x?y=1"], None),
        ("housing", ["a", "b"], None),
        ("housing", ["user", "add", "u", "--password-stdin"], "two words\n"),
    ]


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


@pytest.fixture(params=_backends())
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases: the production one and a restore's target."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'prod.sqlite3'}", f"sqlite:///{tmp_path / 'new.sqlite3'}"
        return
    schemas = ["g_" + uuid.uuid4().hex[:12] for _ in range(2)]
    admin = make_engine(os.environ["TEST_DATABASE_URL"])
    with admin.begin() as conn:
        for s in schemas:
            conn.exec_driver_sql(f"CREATE SCHEMA {s}")
    urls = [postgres_engine(s).url.render_as_string(hide_password=False) for s in schemas]
    try:
        yield urls[0], urls[1]
    finally:
        dispose_engines()
        with admin.begin() as conn:
            for s in schemas:
                conn.exec_driver_sql(f"DROP SCHEMA {s} CASCADE")
        admin.dispose()


def relocate(arg: str, prod: str, new: str, backups: Path) -> str:
    if arg == PROD_URL:
        return prod
    if arg == NEW_URL:
        return new
    if arg.startswith(BACKUPS):
        arg = str(backups) + arg[len(BACKUPS) :]
        if Path(arg).name.startswith("housing-backup-"):
            done = sorted(p for p in backups.glob("housing-backup-*") if (p / MANIFEST).exists())
            assert done, "the guide restores a backup before taking one"
            return str(done[-1])
    return arg


@pytest.mark.slow
def test_guide_commands_run(
    databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher

    from agency.records import users

    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    prod, new = databases
    backups = tmp_path / "backups"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HOUSING_BACKUP_DIR", str(backups))
    lines = guide_lines(GUIDE.read_text(encoding="utf-8"))
    commands = [argv[0] for kind, argv, _ in lines if kind == "housing"]
    for needed in ("db", "office", "user", "backup", "restore"):
        assert needed in commands, needed
    runner = CliRunner()
    for kind, argv, stdin in lines:
        args = [relocate(a, prod, new, backups) for a in argv]
        if kind == "export":
            monkeypatch.setenv(args[0], args[1])
            continue
        res = runner.invoke(cli, args, input=stdin)
        shown = "housing " + shlex.join(argv)
        assert res.exception is None or isinstance(res.exception, SystemExit), (
            f"{shown} raised {res.exception!r}"
        )
        assert res.exit_code == 0, f"{shown} exited {res.exit_code}:\n{res.output}"
    dispose_engines()
    # the restore made a copy equal to the production database, at the code's schema
    a, b = make_engine(prod), make_engine(new)
    try:
        assert current_revision(b) == head_revision(b)
        with a.connect() as ca, b.connect() as cb:
            copied = table_digests(cb)
            assert copied == table_digests(ca)
            assert copied["user_account"].rows == 1 and copied["office"].rows == 1
    finally:
        a.dispose()
        b.dispose()


# --------------------------------------------------------------------------- deploy/


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


def exec_argv(name: str) -> list[str]:
    argv = shlex.split(unit(name)["Service"]["ExecStart"])
    assert argv[0] == "/opt/housing/venv/bin/housing"
    return argv[1:]


def test_the_units_run_as_an_unprivileged_user() -> None:
    for name in ("housing.service", "housing-backup.service"):
        service = unit(name)["Service"]
        assert service["User"] == "housing" and service["Group"] == "housing"
        assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
        assert service["EnvironmentFile"] == "/etc/housing/housing.env"
    timer = unit("housing-backup.timer")["Timer"]
    assert timer["OnCalendar"] and timer["Persistent"] == "true"


def test_the_service_unit_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``housing serve`` as the unit starts it: several workers on 127.0.0.1, uvicorn's
    proxy headers off (the app believes HOUSING_TRUSTED_PROXIES only)."""
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    try:
        res = CliRunner().invoke(cli, exec_argv("housing.service"))
    finally:
        for name in ("HOUSING_DATABASE_URL", "HOUSING_LOG_LEVEL", "PROMETHEUS_MULTIPROC_DIR"):
            os.environ.pop(name, None)
        dispose_engines()
    assert res.exit_code == 0, res.output
    assert seen["app"] == "api.main:worker_app" and seen["factory"] is True
    assert seen["workers"] >= 2 and seen["host"] == "127.0.0.1"
    assert seen["proxy_headers"] is False


def test_the_backup_unit_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    engine = make_engine(url)
    from agency.db import upgrade

    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    args = [str(tmp_path / "b") if a == BACKUPS else a for a in exec_argv("housing-backup.service")]
    for _ in range(2):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
    (folder, *_) = sorted((tmp_path / "b").glob("housing-backup-*"))
    assert Manifest.read(folder).revision == head_revision(make_engine(url))


def test_the_settings_file_gives_what_the_guide_says(monkeypatch: pytest.MonkeyPatch) -> None:
    values = dict(
        line.split("=", 1)
        for line in (DEPLOY / "housing.env").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    for k in list(os.environ):
        if k.startswith("HOUSING_") or k == "DATABASE_URL":
            monkeypatch.delenv(k)
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    settings = Settings()
    assert settings.database_url == PROD_URL
    assert settings.cookie_secure is True
    assert settings.trusted_proxies == "127.0.0.1"
    assert settings.metrics_token and len(settings.metrics_token) >= 32
    assert values["HOUSING_LOG_FORMAT"] == "json"
    assert values["HOUSING_BACKUP_DIR"] == BACKUPS


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    housing = shutil.which("housing") or str(Path(sys.executable).parent / "housing")
    for name in ("housing.service", "housing-backup.service", "housing-backup.timer"):
        text = (DEPLOY / name).read_text().replace("/opt/housing/venv/bin/housing", housing)
        (tmp_path / name).write_text(text)
    res = subprocess.run(
        ["systemd-analyze", "verify", *(str(p) for p in sorted(tmp_path.iterdir()))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [
        line
        for line in (res.stdout + res.stderr).splitlines()
        if str(tmp_path) in line  # about our files, not the machine's own units
    ]
    assert res.returncode == 0 and complaints == [], res.stdout + res.stderr


@pytest.mark.skipif(
    shutil.which("nginx") is None or shutil.which("openssl") is None,
    reason="needs nginx (apt-get install nginx-light) and openssl",
)
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=housing.example.org", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (
        (DEPLOY / "nginx.conf")
        .read_text()
        .replace("/etc/letsencrypt/live/housing.example.org/fullchain.pem", str(cert))
        .replace("/etc/letsencrypt/live/housing.example.org/privkey.pem", str(key))
        .replace("/var/log/nginx/", f"{tmp_path}/")
    )
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include {tmp_path}/site.conf;\n}}\n"
    )
    res = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(main), "-e", f"{tmp_path}/error.log"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "test is successful" in res.stderr
    # what the guide promises of it
    assert "$request_uri" not in site.split("return 301")[0]  # no query string logged
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in site


def test_no_database_url_of_the_guide_is_left_unmapped() -> None:
    urls = set(re.findall(r"postgresql://\S+?(?=['\s])", GUIDE.read_text(encoding="utf-8")))
    assert urls <= {PROD_URL, NEW_URL}, urls
    assert sa.make_url(PROD_URL).database == "housing"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, **kw: Any) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            httpx.get(url, timeout=2, **kw)
            return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.3)


@pytest.mark.skipif(
    shutil.which("nginx") is None or shutil.which("openssl") is None,
    reason="needs nginx (apt-get install nginx-light) and openssl",
)
def test_behind_nginx_the_session_cookie_is_secure(tmp_path: Path) -> None:
    """The service behind deploy/nginx.conf (its ports moved): HTTP is sent to HTTPS, the
    login's session cookie is Secure (the proxy's X-Forwarded-Proto believed, from
    HOUSING_TRUSTED_PROXIES only), HSTS is sent, nginx's request id is the log's, and
    /metrics answers the local scraper's token."""
    app_port, http_port, https_port = _free_port(), _free_port(), _free_port()
    db = f"sqlite:///{tmp_path / 'agency.sqlite3'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HOUSING_", "PROMETHEUS_"))},
        "DATABASE_URL": db,
        "HOUSING_TRUSTED_PROXIES": "127.0.0.1",
        "HOUSING_METRICS_TOKEN": "nginx-test-token-0123456789abcdef",
        "HOUSING_LOG_FORMAT": "json",
    }
    runner = CliRunner()
    res = runner.invoke(cli, ["office", "add", "FG", "Foggia", "--db", db])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli,
        [
            *("user", "add", "anna", "--role", "caseworker", "--office", "FG"),
            *("--password-stdin", "--db", db),
        ],
        input="kettle orange lighthouse 42\n",
    )
    assert res.exit_code == 0, res.output
    dispose_engines()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=housing.example.org", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (
        (DEPLOY / "nginx.conf")
        .read_text()
        .replace("/etc/letsencrypt/live/housing.example.org/fullchain.pem", str(cert))
        .replace("/etc/letsencrypt/live/housing.example.org/privkey.pem", str(key))
        .replace("/var/log/nginx/", f"{tmp_path}/")
        .replace("listen [::]:80;", "")
        .replace("listen [::]:443 ssl;", "")
        .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
        .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
        .replace(
            "return 301 https://$host$request_uri;",
            f"return 301 https://$host:{https_port}$request_uri;",
        )
    )
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\ndaemon off;\n"
        f"events {{}}\nhttp {{\n    include {tmp_path}/site.conf;\n}}\n"
    )
    serve_log, nginx_log = tmp_path / "serve.log", tmp_path / "nginx.out"
    housing = str(Path(sys.executable).parent / "housing")
    with serve_log.open("wb") as out1, nginx_log.open("wb") as out2:
        app = subprocess.Popen(
            [housing, "serve", "--port", str(app_port)],
            stdout=out1,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        proxy = subprocess.Popen(
            ["nginx", "-p", str(tmp_path), "-c", str(main), "-e", f"{tmp_path}/error.log"],
            stdout=out2,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait(f"http://127.0.0.1:{app_port}/health", app, serve_log)
            base = f"https://127.0.0.1:{https_port}"
            _wait(base + "/health", proxy, tmp_path / "error.log", verify=False)
            plain = httpx.get(f"http://127.0.0.1:{http_port}/login?next=/", timeout=10)
            assert plain.status_code == 301
            assert plain.headers["location"].startswith("https://")
            with httpx.Client(base_url=base, verify=False, timeout=30) as client:
                form = client.get("/login")
                assert form.status_code == 200
                assert form.headers["strict-transport-security"].startswith("max-age=")
                rid = form.headers["x-request-id"]
                assert re.fullmatch(r"[0-9a-f]{32}", rid)  # nginx's $request_id, passed on
                token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
                assert token is not None
                done = client.post(
                    "/login",
                    data={
                        "username": "anna",
                        "password": "kettle orange lighthouse 42",
                        "csrf_token": token[1],
                    },
                )
                assert done.status_code == 303, done.text
                session = [
                    h
                    for h in done.headers.get_list("set-cookie")
                    if h.startswith("housing_session=")
                ]
                assert session and "secure" in session[0].lower()
                scraped = client.get(
                    "/metrics",
                    headers={"Authorization": "Bearer " + env["HOUSING_METRICS_TOKEN"]},
                )
                assert scraped.status_code == 200
                assert "housing_http_request_duration_seconds" in scraped.text
            logged = [
                json.loads(x) for x in serve_log.read_text().splitlines() if x.startswith("{")
            ]
            assert any(x.get("request_id") == rid and x.get("route") == "/login" for x in logged)
            # nginx's access log: paths without their query strings
            access = (tmp_path / "housing.access.log").read_text()
            assert "/login" in access and "next=" not in access
        finally:
            for proc in (proxy, app):
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
