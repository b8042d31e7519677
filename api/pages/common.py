"""What every page shares: the templates, the reader's language, forms and errors.

A posted form is read through :class:`Form`, in the page's language: each field that
cannot be read (an amount that is not one, a date that is not one) and each rule the
checked input breaks (:func:`Form.check`) is collected, never raised, so a form with four
mistakes shows four messages at once, each naming the field by its label on the form.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
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
    return pick(
        request.query_params.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("accept-language"),
        settings.default_language,
    )


def translator(request: Request) -> Translator:
    return Translator(language(request))


def lang_url(request: Request, lang: str) -> str:
    """This page in another language: a query-only link (``?lang=en``), so that no path
    as sent (``//evil.example/x``) can become a link to another site."""
    params = dict(request.query_params)
    params["lang"] = lang
    return "?" + urlencode(params)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    t = translator(request)
    lang = t.lang
    who: Principal | None = getattr(request.state, "principal", None)
    ctx: dict[str, Any] = {
        "t": t,
        "lang": lang,
        "me": who,
        "csrf": who.csrf if who else "",
        "csrf_field": CSRF_FIELD,
        "money": t.money,
        "km": t.km,
        "num": t.number,
        "day": t.date,
        "when": t.datetime,
        "place": municipality_name,
        "lang_url": lambda x: lang_url(request, x),
        "path": request.url.path,
        # each form a fresh key: sent twice (a double click), it is carried out once
        "idempotency_key": lambda: secrets.token_urlsafe(16),
    }
    ctx.update(context or {})
    resp = templates.TemplateResponse(request, name, ctx, status_code=status)
    if request.query_params.get("lang") in ("it", "en"):
        resp.set_cookie("lang", lang, max_age=365 * 86400, httponly=True, samesite="strict")
    return resp


def render_error(
    request: Request, status: int, code: str, message: str, fields: list[dict[str, str]]
) -> Response:
    if status == 401:
        return RedirectResponse("/login", status_code=303)
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message, "fields": fields},
        status,
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- forms


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def flag(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


PLACE_FIELDS = ("municipality", "work_municipality")


class Form:
    """A posted form, read in the page's language, collecting every problem.

    ``labels`` maps each field (the form's name, or the checked model's, see
    ``aliases``) to the catalogue key of its label; ``hints`` to a key saying what a
    pattern wants. ``aliases`` maps a model's field to the form's (``income_cents`` →
    ``income_euros``).
    """

    def __init__(
        self,
        data: FormData,
        t: Translator,
        labels: dict[str, str],
        aliases: dict[str, str] | None = None,
        hints: dict[str, str] | None = None,
    ) -> None:
        self.data, self.t = data, t
        self.labels, self.aliases, self.hints = labels, aliases or {}, hints or {}
        self.errors: dict[str, str] = {}

    # ------------------------------------------------------------------ reading

    def text(self, name: str) -> str | None:
        return text(self.data, name)

    def flag(self, name: str) -> bool:
        return flag(self.data, name)

    def fail(self, name: str, key: str, **values: Any) -> None:
        """Note a problem with ``name`` (the first one of each field is kept)."""
        self.errors.setdefault(self.aliases.get(name, name), self.t(key, **values))

    def decimal(self, name: str) -> Decimal | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return self.t.parse_decimal(raw)
        except ValueError:
            self.fail(
                name,
                "error.type.number",
                value=raw,
                example=self.t.decimal_input(Decimal("1234.5"), 1),
            )
            return None

    def number(self, name: str) -> str | None:
        """A number for a model to check (as text, exact)."""
        value = self.decimal(name)
        return None if value is None else str(value)

    def cents(self, name: str) -> int | None:
        """Euros typed in the page's language as integer cents."""
        value = self.decimal(name)
        if value is None:
            return None
        if value != value.quantize(Decimal("0.01")):
            self.fail(name, "error.type.cents")
            return None
        return int(value * 100)

    def date(self, name: str) -> str | None:
        """A date as ISO text: the browser's date picker sends ``yyyy-mm-dd``; a typed
        ``dd/mm/yyyy`` is read too."""
        raw = self.text(name)
        if raw is None:
            return None
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(raw, fmt).date().isoformat()
            except ValueError:
                continue
        self.fail(name, "error.type.date_parsing")
        return None

    def place(self, name: str) -> str | None:
        """A municipality of Puglia, checked against the gazetteer now (with the rest)."""
        raw = self.text(name)
        if raw is not None:
            try:
                records.resolve_municipality(name, raw)
            except RecordError:
                self.fail(name, "error.type.municipality", value=raw)
        return raw

    # ------------------------------------------------------------------ checking

    def check(self, model: type[BaseModel], data: dict[str, Any]) -> Any:
        """``model`` checked from ``data`` (None values left out); every rule it breaks
        noted in the page's language. Returns the model, or None if anything is wrong."""
        try:
            checked = model.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as exc:
            self.note(exc)
            return None
        return None if self.errors else checked

    def note(self, exc: Exception) -> None:
        """Note the problems a checked model or the records found."""
        if isinstance(exc, ValidationError):
            for err in exc.errors():
                loc = [str(p) for p in err.get("loc", ())]
                field = self.aliases.get(loc[0], loc[0]) if loc else "_"
                if field in self.errors:  # its own value was already refused
                    continue
                self.errors[field] = self.message(
                    field, str(err["type"]), dict(err.get("ctx") or {})
                )
        elif isinstance(exc, RecordError | RoundInputError):
            field = self.aliases.get(exc.field, exc.field)
            if field in PLACE_FIELDS:
                self.errors.setdefault(
                    field, self.t("error.type.municipality", value=self.text(field) or "")
                )
            else:
                self.errors.setdefault(field, self.message(field, "record", {}))
        else:
            self.errors.setdefault("_", self.t("error.type.invalid"))

    def message(self, field: str, kind: str, ctx: dict[str, Any]) -> str:
        """A rule's message in the page's language (``kind``: pydantic's error type)."""
        values = {
            k: self.t.number(v, 0 if float(v).is_integer() else 2)
            if isinstance(v, int | float | Decimal) and not isinstance(v, bool)
            else v
            for k, v in ctx.items()
        }
        if kind == "string_pattern_mismatch":
            hint = self.hints.get(field)
            return (
                self.t("error.type.pattern_hint", hint=self.t(hint))
                if hint
                else self.t("error.type.pattern")
            )
        if kind == "string_too_short" and ctx.get("min_length") == 1:
            kind = "missing"
        key = f"error.type.{kind}"
        if not self.t.has(key):
            key = "error.type.invalid"
        try:
            return self.t(key, **values)
        except (KeyError, IndexError):
            return self.t("error.type.invalid")

    def label(self, field: str) -> str:
        key = self.labels.get(field)
        return self.t(key) if key else ""

    @property
    def summary(self) -> list[tuple[str, str]]:
        """``(label, message)`` for every problem, in the form's order of fields."""
        order = {name: k for k, name in enumerate(self.labels)}
        return [
            (self.label(f), m)
            for f, m in sorted(self.errors.items(), key=lambda kv: order.get(kv[0], len(order)))
        ]

    def values(self) -> dict[str, Any]:
        """The form as posted, to show it again with its errors."""
        return {k: v for k, v in self.data.items() if isinstance(v, str)}


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


def iso(value: date | None) -> str:
    """A stored date as a date input's value (``yyyy-mm-dd``)."""
    return value.isoformat() if value else ""
