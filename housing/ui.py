"""What the command line shares: its consoles, money in euros, the solver's live line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.text import Text

from matching.solve import ProgressEvent

console = Console()
err = Console(stderr=True)


def euro(cents: int) -> str:
    """``€1,234.50`` from integer cents."""
    sign = "-" if cents < 0 else ""
    return f"{sign}€{abs(cents) // 100:,}.{abs(cents) % 100:02d}"


@contextmanager
def live_progress() -> Iterator[Callable[[ProgressEvent], None]]:
    """A callback that keeps one live line on stderr: stage, incumbent, bound, time."""
    line = Text("preparing…")
    state: dict[str, float | None] = {"incumbent": None, "bound": None}

    with Live(line, console=err, transient=True, refresh_per_second=8) as live:

        def show(ev: ProgressEvent) -> None:
            if ev.incumbent is not None:
                state["incumbent"] = ev.incumbent
            if ev.bound is not None:
                state["bound"] = ev.bound
            inc, bnd = state["incumbent"], state["bound"]
            line.plain = (
                f"{ev.elapsed:6.1f} s  stage {ev.stage:<18} incumbent "
                f"{'-' if inc is None else f'{inc:,.0f}'}  bound "
                f"{'-' if bnd is None else f'{bnd:,.0f}'}"
            )
            live.refresh()

        yield show
