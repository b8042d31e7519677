"""The README's command-line examples run as tests.

Every line of a ```sh block of README.md that starts with ``housing `` is run, in order,
through Typer's CliRunner, from the project root, with ``out/`` paths moved into a
temporary folder and ``--time-limit`` capped at :data:`TIME_LIMIT_CAP` seconds (the
suite must run in seconds; a solve cut by the limit is still a valid, ``FEASIBLE``
result). Each must exit 0, and the result the ``solve`` writes must pass the
independent checker. A README command that breaks makes this test fail.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from agency.db import dispose_engines, get_engine
from agency.models import Round
from agency.rounds import instance_for
from housing.cli import app
from matching.instance import load_instance
from matching.result import load_result, result_from_dict
from matching.validate import validate

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TIME_LIMIT_CAP = 5.0
SH_BLOCK = re.compile(r"^```sh[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_commands(text: str) -> list[list[str]]:
    """The ``housing`` commands of the ```sh blocks, split (program name dropped)."""
    out = []
    for block in SH_BLOCK.findall(text):
        for line in block.splitlines():
            line = line.strip()
            if not line.startswith("housing "):
                continue  # make lines, comments, blank lines
            argv = shlex.split(line, comments=True)
            out.append(argv[1:])
    return out


def relocate(argv: list[str], tmp: Path) -> list[str]:
    """``out/...`` paths into ``tmp/out/...``; ``--time-limit`` at most the cap."""
    out = [str(tmp / a) if a.startswith("out/") else a for a in argv]
    for k in range(len(out) - 1):
        if out[k] == "--time-limit" and float(out[k + 1]) > TIME_LIMIT_CAP:
            out[k + 1] = str(TIME_LIMIT_CAP)
    return out


def test_readme_parser() -> None:
    text = (
        "intro\n```sh\nmake demo   # sets up\n# a comment\nhousing a out/x.json  # note\n```\n"
        "```python\nhousing not_sh\n```\n"
        "```sh\nhousing b 'two words'\n```\n"
    )
    assert readme_commands(text) == [["a", "out/x.json"], ["b", "two words"]]
    assert relocate(["a", "out/x.json", "scenarios/y.json"], Path("/t")) == [
        "a",
        "/t/out/x.json",
        "scenarios/y.json",
    ]
    assert relocate(["solve", "--time-limit", "30", "--seed", "0"], Path("/t")) == [
        "solve",
        "--time-limit",
        str(TIME_LIMIT_CAP),
        "--seed",
        "0",
    ]
    assert relocate(["solve", "--time-limit", "1"], Path("/t"))[2] == "1"


def test_readme_has_the_examples() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert [c[0] for c in commands][:3] == ["solve", "validate", "explain"]
    assert "generate" in [c[0] for c in commands]


@pytest.mark.slow
def test_readme_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert commands, "README.md has no `housing` example"
    monkeypatch.chdir(ROOT)  # the examples use paths relative to the project root
    # the README exports DATABASE_URL=sqlite:///out/agency.sqlite3: the same, moved
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'out' / 'agency.sqlite3'}")
    runner = CliRunner()
    solves = []
    for argv in commands:
        args = relocate(argv, tmp_path)
        res = runner.invoke(app, args)
        shown = "housing " + shlex.join(argv)
        assert res.exception is None or isinstance(res.exception, SystemExit), (
            f"{shown} raised {res.exception!r}"
        )
        assert res.exit_code == 0, f"{shown} exited {res.exit_code}:\n{res.output}"
        if args[0] == "solve":
            solves.append(args)
    assert solves, "README.md has no `housing solve` example"
    for args in solves:
        out = args[args.index("-o") + 1] if "-o" in args else args[args.index("--output") + 1]
        inst, result = load_instance(args[1]), load_result(out)
        assert validate(inst, result) == []
        assert result.status in ("OPTIMAL", "FEASIBLE")
    # every round the README's database commands solved holds against its instance
    engine = get_engine()
    try:
        with Session(engine) as s:
            rounds = [r for r in s.exec(select(Round)) if r.result]
            assert len(rounds) == 2
            for r in rounds:
                assert validate(instance_for(s, r), result_from_dict(r.result)) == []
    finally:
        dispose_engines()
