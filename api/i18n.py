"""The pages in Italian and English, with Babel: gettext catalogues, the reader's language,
and numbers, money and dates written and read by locale.

- **Catalogues** are ``api/locales/<lang>/LC_MESSAGES/messages.po``. Message ids are
  symbolic keys (``nav.beneficiaries``), texts may hold ``{name}`` placeholders. ``make
  messages`` extracts every key from the templates (``t('...')``) and the code
  (``N_('...')``, see :data:`DYNAMIC`) into ``api/locales/messages.pot`` with Babel's
  extractors (``babel.cfg``) and merges it into both catalogues; a test fails if the
  catalogues miss or leave empty any extracted key. A missing key renders as ``⟦key⟧``.
- **The language** is ``?lang=it|en``, else the ``lang`` cookie, else the browser's
  Accept-Language negotiated by Babel against the languages we have, else the default.
- **Formats** are the locale's (Babel's CLDR data): money ``1.234,50 €`` / ``€1,234.50``,
  numbers with a decimal comma in Italian, dates ``dd/mm/yyyy``. Amounts typed on a form
  are read by the same locale (``0,30`` and ``1.234,56`` in Italian, ``1,234.56`` in
  English).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import NumberFormatError, format_currency, format_decimal, parse_decimal

Day = date
"""A calendar day (a name the methods below can use: ``Translator.date`` hides ``date``)."""
LANGS = ("it", "en")
LOCALES = {"it": "it_IT", "en": "en_GB"}
"""The CLDR locale of each language of the pages (British English: dates day first)."""
MISSING = "⟦{}⟧"
TIMEZONE = ZoneInfo("Europe/Rome")


def N_(key: str) -> str:  # noqa: N802  (gettext's name for "mark for extraction")
    """Mark a key built at run time for extraction (``make messages``)."""
    return key


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The translated messages of ``lang`` (key → text), from its ``.po`` file."""
    path = resources.files("api").joinpath("locales", lang, "LC_MESSAGES", "messages.po")
    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string and not m.fuzzy}


class Translator:
    """The words and formats of one language of the pages."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else LANGS[0]
        self.locale = LOCALES[self.lang]
        self.messages = catalogue(self.lang)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.messages.get(key)
        if text is None:
            return MISSING.format(key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.messages

    # ------------------------------------------------------------------ formats

    def money(self, cents: int | None) -> str:
        """Integer cents as euros, in the locale's way (``1.234,50 €``)."""
        if cents is None:
            return "–"
        return format_currency(Decimal(cents) / 100, "EUR", locale=self.locale)

    def number(self, value: float | int | Decimal | None, digits: int = 0) -> str:
        """A number with ``digits`` decimals (exactly), grouped by the locale."""
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, pattern, locale=self.locale)

    def km(self, value: float | None) -> str:
        return "–" if value is None else f"{self.number(value, 1)} km"

    def date(self, value: date | datetime | None) -> str:
        """``dd/mm/yyyy`` (an instant in Italian time)."""
        if value is None:
            return "–"
        if isinstance(value, datetime):
            return format_datetime(value, "dd/MM/yyyy", tzinfo=TIMEZONE, locale=self.locale)
        return format_date(value, "dd/MM/yyyy", locale=self.locale)

    def date_input(self, value: Day | None) -> str:
        """A date as a form shows it for editing (``dd/mm/yyyy``; empty when none)."""
        return "" if value is None else self.date(value)

    def datetime(self, value: datetime | None) -> str:
        """``dd/mm/yyyy hh:mm`` in Italian time."""
        if value is None:
            return "–"
        return format_datetime(value, "dd/MM/yyyy HH:mm", tzinfo=TIMEZONE, locale=self.locale)

    def decimal_input(self, value: float | int | Decimal | None, digits: int | None = None) -> str:
        """A number as a form shows it for editing: the locale's decimal sign, no grouping."""
        if value is None:
            return ""
        if digits is None:
            return format_decimal(value, "0.######", locale=self.locale)
        pattern = "0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, pattern, locale=self.locale)

    def parse_decimal(self, text: str) -> Decimal:
        """A number typed in the locale's way; ``ValueError`` if it is not one.

        Italian reads ``0,30`` and ``1.234,56`` (and ``1234,56``); English ``1,234.56``.
        A number in the other language's way is refused rather than misread (``1.050``
        in English is one, in Italian one thousand and fifty).
        """
        s = text.strip().replace("€", "").replace("\u00a0", "").replace(" ", "")
        if not s:
            raise ValueError("empty")
        try:
            return parse_decimal(s, locale=self.locale, strict=True)
        except NumberFormatError:
            pass
        # the other sign, where it cannot be a thousands' separator ("0.30" in Italian)
        other = "." if self.lang == "it" else ","
        whole, sign, tail = s.partition(other)
        if (
            sign
            and tail.isdigit()
            and len(tail) != 3
            and other not in tail
            and whole.lstrip("-").isdigit()
            and not set(s) & {",", "."} - {other}
        ):
            return Decimal(f"{whole}.{tail}")
        raise ValueError(text)


def accept_languages(header: str | None) -> list[str]:
    """The Accept-Language header's tags, most wanted first (``q=0`` left out)."""
    ranked: list[tuple[float, int, str]] = []
    for k, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag.strip() and q > 0:
            ranked.append((-q, k, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def pick(query: str | None, cookie: str | None, accept: str | None, default: str) -> str:
    """The language to show: query, then cookie, then Accept-Language (negotiated by
    Babel against :data:`LANGS`), then the default."""
    for candidate in (query, cookie):
        if candidate in LANGS:
            return candidate
    chosen = negotiate_locale(accept_languages(accept), LANGS, sep="-")
    if chosen is None:  # "it_IT"-style tags, as some clients send them
        chosen = negotiate_locale(
            [t.replace("_", "-") for t in accept_languages(accept)], LANGS, sep="-"
        )
    if chosen in LANGS:
        return chosen
    return default if default in LANGS else LANGS[0]


def keys(prefix: str, values: Iterable[Any]) -> list[str]:
    """The catalogue keys ``prefix + value`` of an enumeration's values."""
    return [f"{prefix}{getattr(v, 'value', v)}" for v in values]
