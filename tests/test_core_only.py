"""With only the core installed (``pip install housing-match``), the engine imports and the
``housing`` command line starts; a command that needs an extra names the extra to install.

Each check runs in a fresh interpreter in which the extras' packages cannot be imported
(``sys.modules`` holds ``None`` for them, as Python does for a package that is missing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXTRAS_ONLY = (
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "openpyxl",
    "argon2",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "multipart",
    "pydantic_settings",
    "dask",
    "distributed",
    "matplotlib",
    "highspy",
    "httpx",
)
"""The top-level packages of the extras (agency, service, scenarios, benchmarks); pydantic
is not among them: Typer, and so the core, needs it."""

PRELUDE = f"""
import sys
for name in {EXTRAS_ONLY!r}:
    sys.modules[name] = None
"""

ROOT = Path(__file__).resolve().parents[1]


def core_only(code: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the extras' packages blocked, ``argv`` as its arguments."""
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + code, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
    )


def housing(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return core_only(
        "from housing.cli import app\napp(sys.argv[1:], prog_name='housing')", *map(str, argv)
    )


def test_the_engine_and_the_places_import_without_the_extras() -> None:
    done = core_only(
        "import matching.solve, matching.validate, matching.explain\n"
        "import places.gazetteer, places.geocoding, places.sites\n"
        "import sheets\n"
        "import scenarios.spec, scenarios.synthetic, scenarios.bundled\n"
        "import housing.cli\n"
        "blocked = [m for m in sys.modules if sys.modules[m] is None]\n"
        "print('ok', len(blocked))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


def test_the_command_line_solves_with_the_core_alone(tmp_path: Path) -> None:
    listed = housing("--help")
    assert listed.returncode == 0, listed.stderr
    for command in ("solve", "validate", "explain", "round", "serve", "scenario"):
        assert command in listed.stdout
    assert "pip install 'housing-match[agency]'" in listed.stdout  # beside round, db...
    inst, res = tmp_path / "i.json", tmp_path / "r.json"
    assert housing("generate", "--scale", "XS", "--seed", "2", "-o", inst).returncode == 0
    solved = housing("solve", inst, "-o", res, "--time-limit", "20")
    assert solved.returncode == 0, solved.stderr
    checked = housing("validate", inst, res)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (("round", "show", "1"), "agency"),
        (("db", "upgrade"), "agency"),
        (("demo",), "agency"),
        (("user", "add", "anna", "--role", "admin"), "agency"),
        (("user", "reactivate", "anna"), "agency"),
        (("subject", "export", "B-1", "-o", "out/b.json"), "agency"),
        (("retention", "run", "--dry-run"), "agency"),
        (("serve",), "service"),
        (("bench", "--scale", "XS"), "benchmarks"),
        (("scenario", "run", "scenarios/examples/victims-fund.toml"), "scenarios"),
    ],
)
def test_a_command_that_needs_an_extra_says_which(argv: tuple[str, ...], extra: str) -> None:
    done = housing(*argv)
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, said
    assert f"pip install 'housing-match[{extra}]'" in said
    assert "Traceback" not in said


def test_a_scenario_is_checked_with_the_core_alone() -> None:
    done = housing("scenario", "check", "scenarios/examples/victims-fund.toml")
    assert done.returncode == 0, done.stdout + done.stderr
