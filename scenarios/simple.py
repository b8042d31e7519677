"""The common what-if variants, written as a scenario file for those who do not write TOML:
money added to a fund, extra reach for the households working near a place, and beds
added in a municipality. :func:`scenario_text` gives the file, which is then checked and
run like any other (:func:`scenarios.spec.parse_spec`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["Beds", "Money", "Reach", "SimpleScenario", "scenario_text"]


def _s(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "x"


@dataclass(frozen=True)
class Money:
    """Euros added to a fund (several amounts: one variant each)."""

    fund: str
    euros: tuple[Decimal, ...]


@dataclass(frozen=True)
class Reach:
    """Extra kilometres of reach for the households working within ``radius_km`` of a
    place (those with ``tag`` only, when given): a shuttle, a bus pass."""

    place: str
    radius_km: Decimal
    extra_km: Decimal
    tag: str | None = None


@dataclass(frozen=True)
class Beds:
    """Shared flats added in a municipality: ``flats`` of ``rooms`` rooms of
    ``beds_per_room`` beds each."""

    municipality: str
    flats: int
    rooms: int
    beds_per_room: int


@dataclass(frozen=True)
class SimpleScenario:
    name: str
    base: str = "agency"
    """``agency`` (the agency's data now, pseudonymised) or ``example`` (a generated
    round of 200 households)."""
    time_limit: int = 20
    money: list[Money] = field(default_factory=list)
    reach: list[Reach] = field(default_factory=list)
    beds: list[Beds] = field(default_factory=list)


WORDS = {
    "it": {
        "scenario": "Varianti comuni: {name}",
        "money": "Più soldi sul fondo {fund}",
        "reach": "+{km} km raggiungibili vicino a {place}",
        "beds": "{n} posti letto in più a {town}",
    },
    "en": {
        "scenario": "Common variants: {name}",
        "money": "More money on the fund {fund}",
        "reach": "+{km} km of reach near {place}",
        "beds": "{n} more beds in {town}",
    },
}
"""The variants' descriptions, in the planner's language."""


def _num(x: Decimal) -> str:
    return format(x.normalize(), "f") if x != x.to_integral_value() else str(int(x))


def scenario_text(s: SimpleScenario, lang: str = "en") -> str:
    """The scenario file of ``s`` (TOML), its descriptions in ``lang`` (it or en)."""
    w = WORDS[lang if lang in WORDS else "en"]
    lines = [
        "[scenario]",
        f"name = {_s(s.name)}",
        f"description = {_s(w['scenario'].format(name=s.name))}",
        f"time_limit = {int(s.time_limit)}",
        "seed = 0",
        "",
        "[base]",
        "agency = {}" if s.base == "agency" else 'generate = { scale = "S", seed = 1 }',
        "",
    ]
    for m in s.money:
        key = f"money_{_key(m.fund)}"
        lines += [f"[variants.{key}]", f"description = {_s(w['money'].format(fund=m.fund))}"]
        if len(m.euros) == 1:
            lines.append(f"overrides.funds.{_key(m.fund)}.add_eur = {_num(m.euros[0])}")
        else:
            values = ", ".join(_num(e) for e in m.euros)
            lines.append(f'sweep = {{ key = "funds.{_key(m.fund)}.add_eur", values = [{values}] }}')
        lines.append("")
    for k, r in enumerate(s.reach, 1):
        tags = f", tags = [{_s(r.tag)}]" if r.tag else ""
        lines += [
            f"[variants.reach_{k}_{_key(r.place)}]",
            f"description = {_s(w['reach'].format(km=_num(r.extra_km), place=r.place))}",
            f"overrides.commute = {{ extra_km = {_num(r.extra_km)}, zone = {{ place = "
            f"{_s(r.place)}, radius_km = {_num(r.radius_km)}{tags} }} }}",
            "",
        ]
    for k, b in enumerate(s.beds, 1):
        total = b.flats * b.rooms * b.beds_per_room
        lines += [
            f"[variants.beds_{k}_{_key(b.municipality)}]",
            f"description = {_s(w['beds'].format(n=total, town=b.municipality))}",
            f"overrides.add_shared_flats.{_key(b.municipality)} = {{ municipality = "
            f"{_s(b.municipality)}, count = {b.flats}, rooms = {b.rooms}, "
            f"beds_per_room = {b.beds_per_room} }}",
            "",
        ]
    return "\n".join(lines)
