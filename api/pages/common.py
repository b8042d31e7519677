"""What every page shares: the templates, the reader's language, forms and errors."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from agency import records
from agency.errors import RecordError, RoundInputError
from agency.records import municipality_name
from api.deps import CSRF_FIELD, Principal
from api.i18n import Translator, pick

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
templates.env.autoescape = True


async def _form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]
"""The posted form, read by an async dependency so that handlers can be plain functions
(run in the thread pool: the database is never used on the event loop)."""


def language(request: Request) -> str:
    settings = request.app.state.settings
    return pick(request.query_params.get("lang"), request.cookies.get("lang"),
                request.headers.get("accept-language"), settings.default_language)


def money(cents: int | None, lang: str) -> str:
    if cents is None:
        return "–"
    euros = f"{cents / 100:,.2f}"
    if lang == "it":
        euros = euros.replace(",", "_").replace(".", ",").replace("_", ".")
    return f"€ {euros}"


def km(value: float | None, lang: str) -> str:
    if value is None:
        return "–"
    text = f"{value:,.1f}"
    if lang == "it":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{text} km"


def lang_url(request: Request, lang: str) -> str:
    """This page in another language: a query-only link (``?lang=en``), so that no path
    as sent (``//evil.example/x``) can become a link to another site."""
    params = dict(request.query_params)
    params["lang"] = lang
    return "?" + urlencode(params)


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status: int = 200) -> HTMLResponse:
    lang = language(request)
    t = Translator(lang)
    who: Principal | None = getattr(request.state, "principal", None)
    ctx: dict[str, Any] = {
        "t": t, "lang": lang, "me": who, "csrf": who.csrf if who else "",
        "csrf_field": CSRF_FIELD, "money": lambda c: money(c, lang),
        "km": lambda x: km(x, lang),
        "place": municipality_name, "lang_url": lambda x: lang_url(request, x),
        "path": request.url.path,
        # each form a fresh key: sent twice (a double click), it is carried out once
        "idempotency_key": lambda: secrets.token_urlsafe(16),
    }
    ctx.update(context or {})
    resp = templates.TemplateResponse(request, name, ctx, status_code=status)
    if request.query_params.get("lang") in ("it", "en"):
        resp.set_cookie("lang", lang, max_age=365 * 86400, httponly=True, samesite="strict")
    return resp


def render_error(request: Request, status: int, code: str, message: str,
                 fields: list[dict[str, str]]) -> Response:
    if status == 401:
        return RedirectResponse("/login", status_code=303)
    return render(request, "error.html", {"status": status, "code": code,
                                          "message": message, "fields": fields}, status)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- forms


class FormError(Exception):
    """A form field that cannot be read (e.g. an amount that is not a number)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def flag(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def cents(form: FormData, name: str) -> int | None:
    """Euros typed on a form (``1.234,50`` or ``1234.50``) as integer cents."""
    raw = text(form, name)
    if raw is None:
        return None
    s = raw.replace("€", "").replace(" ", "")
    if "," in s:
        s = s.replace(".", "").replace(",", ".")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise FormError(name, "not an amount in euros") from None
    if value != value.quantize(Decimal("0.01")) or not value.is_finite():
        raise FormError(name, "at most two decimals")
    return int(value * 100)


def number(form: FormData, name: str) -> str | None:
    raw = text(form, name)
    return raw.replace(",", ".") if raw else None


def errors_of(exc: Exception) -> dict[str, str]:
    """Field → message, for re-showing a form."""
    if isinstance(exc, ValidationError):
        out: dict[str, str] = {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            out.setdefault(loc[0] if loc else "_", str(err.get("msg", "")))
        return out
    if isinstance(exc, RecordError | RoundInputError | FormError):
        return {exc.field: exc.message}
    return {"_": str(exc)}


def form_office(me: Principal, session: Session, form: FormData) -> int:
    """The office a new record goes to: the caseworker's own; an admin's choice on the
    form, or the only office there is."""
    code = text(form, "office")
    if code and me.scope is None:
        office = records.office_by_code(session, code)
        assert office.id is not None
        return office.id
    if me.office_id is None:
        offices = records.list_offices(session)
        if len(offices) == 1 and offices[0].id is not None:
            return offices[0].id
        raise RecordError("office", "choose the office")
    return me.office_id


def validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return model.model_validate({k: v for k, v in data.items() if v is not None})
