"""What a scenario report finds, in plain words, per run, in Italian and in English.

For each run (the base and every variant) the findings say what binds, from its
aggregates only: **money** (a fund spent to the last euro, and households left out for
lack of it, naming the fund) or **units** (households whose every home within reach went
to others, and in which kind of home), or **reach** and the rules (households no home
could take); for a variant, what it changed against the base. A run cut by its time
limit (``FEASIBLE``) is warned about: its figures, and so its differences from the base,
are not reliable; if the base itself was cut, every difference is unreliable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LANGS", "findings", "report_findings"]

LANGS = ("it", "en")
SPENT = 0.98
"""A fund that has used this share of its budget is taken as spent."""

MONEY_REASONS = (
    "funds_exhausted",
    "no_fund_can_pay",
    "unaffordable_at_cap",
    "guarantee_exhausted",
    "transport_budget_exhausted",
)
UNIT_REASONS = (
    "units_taken",
    "rooms_taken_by_other_gender",
    "unit_not_available",
    "no_seat_on_line",
)
REACH_REASONS = (
    "no_unit_within_commute",
    "no_line_within_walk",
    "unit_type_not_accepted",
    "too_large",
    "children_not_allowed",
    "not_step_free",
    "outside_areas",
    "safety",
    "forbidden",
)

WORDS: dict[str, dict[str, str]] = {
    "it": {
        "cut": "Attenzione: il calcolo di «{name}» si è fermato al tempo massimo "
        "(soluzione valida, scarto {gap} dal limite): le sue cifre non sono "
        "ottime e le differenze dalla base non sono affidabili.",
        "base_cut": "Attenzione: la base si è fermata al tempo massimo: nessuna differenza "
        "dalla base è affidabile.",
        "error": "«{name}» non è stato risolto: {error}",
        "housed": "Alloggia {households} nuclei su {total} ({persons} persone), con "
        "{money} al mese di contributi.",
        "money": "I soldi sono il vincolo: {funds} {spent_verb} fino all'ultimo euro{left}.",
        "money_left": ", e {n} nuclei restano fuori per mancanza di fondi",
        "money_left_1": ", e un nucleo resta fuori per mancanza di fondi",
        "spent_one": "è speso",
        "spent_many": "sono spesi",
        "money_free": "I soldi non sono il vincolo: nessun fondo è esaurito "
        "(il più usato: {fund} al {share}).",
        "units": "Le case sono il vincolo: per {n} nuclei ogni casa raggiungibile è andata "
        "ad altri ({where}).",
        "units_1": "Le case sono il vincolo: per un nucleo ogni casa raggiungibile è andata "
        "ad altri ({where}).",
        "units_none": "Nessun nucleo resta fuori perché le case raggiungibili sono tutte occupate.",
        "where": "oggi {dwellings} nuclei in alloggi interi e {beds} in posti letto",
        "reach": "{n} nuclei non possono essere presi da nessuna casa: {reasons}.",
        "reach_1": "Un nucleo non può essere preso da nessuna casa: {reasons}.",
        "diff": "Rispetto alla base: {households} nuclei, {persons} persone, {money} al mese.",
        "diff_none": "Rispetto alla base non cambia nulla di ciò che si conta qui.",
        "fund": "il fondo {fund}",
        "lines": "Navette aperte: {lines} (tra parentesi i nuclei che le usano), "
        "{spent} del budget per i trasporti di {budget}.",
        "lines_none": "Nessuna navetta proposta viene aperta.",
        "and": " e ",
        "flagged": "Sotto i quattro quinti del gruppo più servito: {groups}.",
        "flagged_group": "{group} ({rate} collocati)",
        "inversions": "{n} inversioni di priorità (un nucleo escluso o più lontano mentre uno "
        "di priorità più bassa ha una casa che poteva avere), ciascuna giustificata: {why}.",
    },
    "en": {
        "cut": "Warning: the solve of “{name}” stopped at its time limit (a valid "
        "allocation, {gap} from the bound): its figures are not optimal and its "
        "differences from the base are not reliable.",
        "base_cut": "Warning: the base stopped at its time limit: no difference from the "
        "base is reliable.",
        "error": "“{name}” was not solved: {error}",
        "housed": "It houses {households} of {total} households ({persons} persons), for "
        "{money} a month of contributions.",
        "money": "Money binds: {funds} {spent_verb} to the last euro{left}.",
        "money_left": ", and {n} households are left out for lack of money",
        "money_left_1": ", and one household is left out for lack of money",
        "spent_one": "is spent",
        "spent_many": "are spent",
        "money_free": "Money does not bind: no fund is spent (the most used: {fund} at {share}).",
        "units": "Homes bind: for {n} households every home within reach went to others ({where}).",
        "units_1": "Homes bind: for one household every home within reach went to others "
        "({where}).",
        "units_none": "No household is left out because the homes within its reach are all taken.",
        "where": "{dwellings} households now in whole dwellings and {beds} in beds",
        "reach": "{n} households can be taken by no home: {reasons}.",
        "reach_1": "One household can be taken by no home: {reasons}.",
        "diff": "Against the base: {households} households, {persons} persons, {money} a month.",
        "lines": "Shuttles opened: {lines} (in brackets the households riding them), "
        "{spent} of a transport budget of {budget}.",
        "lines_none": "No proposed shuttle is opened.",
        "diff_none": "Against the base nothing counted here changes.",
        "fund": "the {fund} fund",
        "and": " and ",
        "flagged": "Under four fifths of the best-served group: {groups}.",
        "flagged_group": "{group} ({rate} placed)",
        "inversions": "{n} priority inversions (a household left out or placed farther while "
        "one of lower priority holds a home it could have had), each accounted for: {why}.",
    },
}

REASON_WORDS: dict[str, dict[str, str]] = {
    "it": {
        "no_unit_within_commute": "troppo lontane dal lavoro",
        "no_line_within_walk": "nessuna navetta vicina al lavoro",
        "unit_type_not_accepted": "di un tipo che non accettano",
        "too_large": "troppo piccole",
        "children_not_allowed": "senza minori ammessi",
        "not_step_free": "non senza barriere",
        "outside_areas": "fuori dalle loro zone",
        "safety": "non sicure per loro",
        "forbidden": "escluse dagli operatori",
    },
    "en": {
        "no_unit_within_commute": "too far from work",
        "no_line_within_walk": "no shuttle near work",
        "unit_type_not_accepted": "of a kind they do not accept",
        "too_large": "too small",
        "children_not_allowed": "taking no minors",
        "not_step_free": "not step-free",
        "outside_areas": "outside their areas",
        "safety": "not safe for them",
        "forbidden": "excluded by staff",
    },
}


def _euros(cents: float, lang: str) -> str:
    text = f"{abs(cents) / 100:,.0f}"
    if lang == "it":
        return text.replace(",", ".") + " €"
    return "€" + text


def _signed(x: float, lang: str, money: bool = False) -> str:
    text = _euros(x, lang) if money else f"{abs(x):g}"
    return ("+" if x > 0 else "−" if x < 0 else "±") + text


def _pct(x: float, lang: str) -> str:
    text = f"{100 * x:.0f}%"
    return text


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + WORDS[lang]["and"] + items[-1]


def _n(w: Mapping[str, str], key: str, n: int | str) -> str:
    """The sentence ``key`` for ``n`` households (its singular when there is one)."""
    return w[f"{key}_1"] if n == 1 and f"{key}_1" in w else w[key]


SMALL = "<5"
"""How a count suppressed for privacy is written (:mod:`scenarios.disclosure` leaves
``None`` for a count of 1 to 4 on the agency's own data)."""


def _count(v: Any) -> int | str:
    return SMALL if v is None else int(v)


def _total(values: list[Any]) -> int | str:
    """The sum of some counts, any of them possibly suppressed (``None``): ``12``,
    ``12+`` (some hidden besides), ``<5`` (all hidden), or 0."""
    known = sum(int(v) for v in values if v is not None)
    if any(v is None for v in values):
        return f"{known}+" if known else SMALL
    return known


def findings(
    run: Mapping[str, Any], lang: str, *, base: Mapping[str, Any] | None = None
) -> list[str]:
    """The findings of one run, sentence by sentence (``base``: the base run, when ``run``
    is a variant)."""
    w = WORDS[lang]
    if run.get("status") == "ERROR":
        return [w["error"].format(name=run.get("name", ""), error=run.get("error", ""))]
    out: list[str] = []
    if run.get("status") != "OPTIMAL":
        gap = run.get("gap")
        out.append(
            w["cut"].format(
                name=run.get("name", ""), gap="–" if gap is None else f"{100 * gap:.2f}%"
            )
        )
    housed, totals, money = run["housed"], run["totals"], run["money"]
    out.append(
        w["housed"].format(
            households=_count(housed["households"]),
            total=_count(totals["households"]),
            persons=_count(housed["persons"]),
            money=_euros(money["contribution_cents_per_month"], lang),
        )
    )
    by_reason: Mapping[str, int | None] = run["unplaced"]["by_reason"]
    funds: Mapping[str, Mapping[str, Any]] = money["funds"]
    spent = [f for f, x in funds.items() if x["budget_cents"] and x["share_used"] >= SPENT]
    short = _total([by_reason.get(r, 0) for r in MONEY_REASONS])
    if spent:
        left = _n(w, "money_left", short).format(n=short) if short else ""
        out.append(
            w["money"].format(
                funds=_join([w["fund"].format(fund=f) for f in spent], lang),
                spent_verb=w["spent_one"] if len(spent) == 1 else w["spent_many"],
                left=left,
            )
        )
    elif funds:
        top = max(funds, key=lambda f: funds[f]["share_used"])
        out.append(w["money_free"].format(fund=top, share=_pct(funds[top]["share_used"], lang)))
    taken = _total([by_reason.get(r, 0) for r in UNIT_REASONS])
    if taken:
        where = w["where"].format(
            dwellings=_count(housed.get("households_in_dwellings", 0)),
            beds=_count(housed.get("households_in_beds", 0)),
        )
        out.append(_n(w, "units", taken).format(n=taken, where=where))
    else:
        out.append(w["units_none"])
    reach = {r: by_reason[r] for r in REACH_REASONS if r in by_reason and by_reason[r] != 0}
    if reach:
        words = REASON_WORDS[lang]
        total = _total(list(reach.values()))
        order = sorted(reach.items(), key=lambda kv: -(kv[1] if kv[1] is not None else 0))
        out.append(
            _n(w, "reach", total).format(
                n=total, reasons=_join([f"{_count(n)} {words[r]}" for r, n in order], lang)
            )
        )
    transport = run.get("transport")
    if transport:
        riding = (run.get("housed") or {}).get("households_by_line") or {}
        opened = transport.get("lines_opened") or []
        if opened:
            out.append(
                w["lines"].format(
                    lines=_join([f"{x} ({_count(riding.get(x))})" for x in opened], lang),
                    spent=_euros(transport.get("spent_cents", 0), lang),
                    budget=_euros(transport.get("budget_cents", 0), lang),
                )
            )
        elif transport.get("lines_proposed"):
            out.append(w["lines_none"])
    out += _audit_findings(run.get("audit"), lang)
    if base is not None:
        d = run.get("difference") or {}
        changes = (
            d.get("housed.households", 0),
            d.get("housed.persons", 0),
            d.get("money.contribution_cents_per_month", 0),
        )
        if any(changes):
            out.append(
                w["diff"].format(
                    households=_signed(changes[0], lang),
                    persons=_signed(changes[1], lang),
                    money=_signed(changes[2], lang, money=True),
                )
            )
        else:
            out.append(w["diff_none"])
        if base.get("status") not in ("OPTIMAL", "ERROR"):
            out.append(w["base_cut"])
    return out


WHY_WORDS: dict[str, dict[str, str]] = {
    "it": {
        "weight": "peso di priorità",
        "contribution_cents": "contributo",
        "money_cents": "costo",
        "commute_m": "tragitto",
        "tie": "pari merito",
        "pinned": "blocchi e offerte",
        "improves": "migliorabile",
        "not_examined": "non esaminate",
        "funds_exhausted": "fondi esauriti",
        "rooms_taken_by_other_gender": "stanze dell'altro genere",
        "units_taken": "case occupate",
        "no_seat_on_line": "navette piene",
        "transport_budget_exhausted": "budget dei trasporti esaurito",
        "guarantee_exhausted": "garanzia esaurita",
    },
    "en": {
        "weight": "priority weight",
        "contribution_cents": "contribution",
        "money_cents": "cost",
        "commute_m": "commute",
        "tie": "ties",
        "pinned": "locks and offers",
        "improves": "improvable",
        "not_examined": "not examined",
        "funds_exhausted": "funds spent",
        "rooms_taken_by_other_gender": "rooms of the other gender",
        "units_taken": "homes taken",
        "no_seat_on_line": "shuttles full",
        "transport_budget_exhausted": "transport budget spent",
        "guarantee_exhausted": "guarantee spent",
    },
}


def _audit_findings(audit: Mapping[str, Any] | None, lang: str) -> list[str]:
    """The groups under four fifths of the best-served, and the inversions by why."""
    if not audit:
        return []
    w, out = WORDS[lang], []
    flagged = [
        w["flagged_group"].format(
            group=f"{g['dimension']} {g['group']}", rate=_pct(g["rate"], lang)
        )
        for g in audit.get("groups", [])
        if g.get("flagged")
    ]
    if flagged:
        out.append(w["flagged"].format(groups=_join(flagged, lang)))
    why: dict[str, int | None] = {}
    for counts in audit.get("inversion_counts", {}).values():
        for k, n in counts.items():
            why[k] = None if n is None or why.get(k, 0) is None else why.get(k, 0) + n
    total = audit.get("inversions_total")
    if total != 0 and why:
        words = {**REASON_WORDS[lang], **WHY_WORDS[lang]}
        out.append(
            w["inversions"].format(
                n=_count(total),
                why=_join([f"{words.get(k, k)} {_count(n)}" for k, n in why.items()], lang),
            )
        )
    return out


def report_findings(report: Mapping[str, Any], lang: str) -> list[tuple[str, list[str]]]:
    """``(run name, its findings)`` for the base and every variant of a report."""
    base = report["base"]
    out = [(str(base["name"]), findings(base, lang))]
    out += [(str(v["name"]), findings(v, lang, base=base)) for v in report["variants"]]
    return out
