"""A landlord's dwelling on its way to a round: its page shows the stage it is at, the
form of the next step (the visit, the certificate of fitness, making it available) and its
negotiated terms, editable until it is let."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from agency import records
from agency.models import Dwelling
from agency.records import RecordError
from agency.schemas import CertificateBody, DwellingTermCreate, VisitBody
from api import permissions as perms
from api.deps import Principal, SessionDep, page
from api.i18n import Translator
from api.pages.common import Form, FormDep, redirect, render, translator

router = APIRouter()

Reader = Annotated[Principal, page(perms.UNITS_READ)]
Writer = Annotated[Principal, page(perms.UNITS_WRITE)]

STAGES = ("proposed", "visited", "certified", "available", "let")
TERM_ROWS = 4
"""Rows of the terms' form (the stored terms, then empty rows up to this many)."""
LABELS = {
    "visited_on": "walk.visited_on",
    "number": "walk.certificate_number",
    "issued_on": "walk.certificate_on",
    "occupants": "walk.certificate_occupants",
    "terms": "walk.terms",
    "status": "unit.status",
    "_": "form.whole",
}


def _form(request: Request, form: Any) -> Form:
    labels = dict(LABELS)
    for k in range(TERM_ROWS):
        for name, key in (
            ("label", "walk.term_label"),
            ("rent", "walk.term_rent"),
            ("one_off", "walk.term_one_off"),
        ):
            labels[f"{name}_{k}"] = key
    return Form(form, translator(request), labels)


def _terms_shown(session: Session, d: Dwelling, t: Translator) -> list[dict[str, Any]]:
    view = records.walk_view(session, d)
    rows: list[dict[str, Any]] = [
        {
            "label": x.label,
            "rent": t.decimal_input(Decimal(x.rent_cents) / 100, 2),
            "one_off": t.decimal_input(Decimal(x.one_off_cents) / 100, 2),
            "guaranteed": x.guaranteed,
        }
        for x in view.terms
    ]
    rows += [{"label": "", "rent": "", "one_off": "", "guaranteed": False}] * max(
        0, TERM_ROWS - len(rows)
    )
    return rows


def _page(
    request: Request,
    session: Session,
    me: Principal,
    ref: str,
    f: Form | None = None,
    status: int = 200,
) -> Response:
    d = records.get_dwelling(session, me.actor, ref, scope=me.scope)
    view = records.walk_view(session, d)
    t = translator(request)
    terms = _terms_shown(session, d, t)
    if f is not None:
        posted = f.values()
        terms = [
            {
                "label": posted.get(f"label_{k}", ""),
                "rent": posted.get(f"rent_{k}", ""),
                "one_off": posted.get(f"one_off_{k}", ""),
                "guaranteed": f.flag(f"guaranteed_{k}"),
            }
            for k in range(TERM_ROWS)
        ]
    return render(
        request,
        "dwelling_walk.html",
        {
            "d": d,
            "walk": view,
            "stages": STAGES,
            "reached": STAGES.index(str(d.status)) if str(d.status) in STAGES else -1,
            "terms": terms,
            "values": f.values() if f else {},
            "errors": f.errors if f else {},
            "summary": f.summary if f else [],
        },
        status,
    )


@router.get("/dwellings/{ref}/walk")
def walk_page(request: Request, me: Reader, session: SessionDep, ref: str) -> Response:
    return _page(request, session, me, ref)


def _step(
    request: Request, session: Session, me: Principal, ref: str, f: Form, do: Any
) -> Response:
    if not f.errors:
        try:
            with session.begin_nested():
                do()
        except RecordError as exc:
            f.note(exc)
        else:
            return redirect(f"/dwellings/{ref}/walk")
    return _page(request, session, me, ref, f, 422)


@router.post("/dwellings/{ref}/visit")
def visit(request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str) -> Response:
    f = _form(request, form)
    body = f.check(VisitBody, {"visited_on": f.date("visited_on")})
    return _step(
        request,
        session,
        me,
        ref,
        f,
        lambda: records.record_visit(session, me.actor, ref, body, scope=me.scope),
    )


@router.post("/dwellings/{ref}/certificate")
def certificate(
    request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str
) -> Response:
    f = _form(request, form)
    body = f.check(
        CertificateBody,
        {
            "number": f.text("number"),
            "issued_on": f.date("issued_on"),
            "occupants": f.number("occupants"),
        },
    )
    return _step(
        request,
        session,
        me,
        ref,
        f,
        lambda: records.certify(session, me.actor, ref, body, scope=me.scope),
    )


@router.post("/dwellings/{ref}/available")
def available(
    request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str
) -> Response:
    f = _form(request, form)
    return _step(
        request,
        session,
        me,
        ref,
        f,
        lambda: records.make_available(session, me.actor, ref, scope=me.scope),
    )


@router.post("/dwellings/{ref}/terms")
def terms(request: Request, form: FormDep, me: Writer, session: SessionDep, ref: str) -> Response:
    f = _form(request, form)
    checked: list[DwellingTermCreate] = []
    for k in range(TERM_ROWS):
        label = f.text(f"label_{k}")
        if not label:
            continue
        before = len(f.errors)
        data = {
            "label": label,
            "rent_cents": f.cents(f"rent_{k}"),
            "one_off_cents": f.cents(f"one_off_{k}") or 0,
            "guaranteed": f.flag(f"guaranteed_{k}"),
        }
        sub = Form(
            form,
            f.t,
            f.labels,
            {"label": f"label_{k}", "rent_cents": f"rent_{k}", "one_off_cents": f"one_off_{k}"},
        )
        term = sub.check(DwellingTermCreate, data)
        f.errors.update(sub.errors)
        if term is not None and len(f.errors) == before:
            checked.append(term)
    return _step(
        request,
        session,
        me,
        ref,
        f,
        lambda: records.set_terms(session, me.actor, ref, checked, scope=me.scope),
    )
