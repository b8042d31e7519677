"""What a command needs beyond the core: the extras of housing-match.

``pip install housing-match`` brings the engine and this command line (solve, validate,
explain, generate, scenario check); the agency's records, the service, the scenario runs
and the benchmarks come with extras (``agency``, ``service``, ``scenarios``,
``benchmarks``). A command that needs one says which, instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec

import typer
from rich.markup import escape

from housing.ui import err

OWN_PACKAGES = frozenset(
    {"places", "matching", "sheets", "agency", "api", "scenarios", "benchmarks", "housing"}
)
"""The project's own packages: a module of these missing is a bug, never an extra."""


def install_hint(extra: str) -> str:
    """The command that installs an extra."""
    return f"pip install 'housing-match[{extra}]'"


@contextmanager
def needs(extra: str, what: str) -> Iterator[None]:
    """Run the block; if a package of ``extra`` is missing, say so and exit with code 2.

    Parameters
    ----------
    extra
        The extra that brings the packages the block imports (``agency``, ``service``...).
    what
        What needs them, for the message (``"housing serve"``).
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if not top or top in OWN_PACKAGES:
            raise
        err.print(
            f"[red]{escape(what)} needs the '{extra}' extra[/red] (the package "
            f"{escape(top)!r} is not installed): {escape(install_hint(extra))}"
        )
        raise typer.Exit(2) from exc


def require(extra: str, what: str, *packages: str) -> None:
    """Exit with code 2, saying which extra to install, unless ``packages`` are installed.

    For packages that must not be imported here (``highspy`` runs in a child process of
    its own: it and OR-Tools cannot share one).
    """
    for package in packages:
        if find_spec(package) is None:
            err.print(
                f"[red]{escape(what)} needs the '{extra}' extra[/red] (the package "
                f"{escape(package)!r} is not installed): {escape(install_hint(extra))}"
            )
            raise typer.Exit(2)
