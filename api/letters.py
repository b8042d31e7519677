"""Offer letters: a printable PDF telling a household, in plain words, in Italian and in its
own language (English, French or Arabic), what home it is offered, from when, what it pays
and what the agency pays, by when to answer and whom to call.

Drawn with ReportLab in DejaVu Sans (the TrueType font matplotlib ships, which has Latin and
Arabic glyphs). Arabic is shaped (``arabic_reshaper``: each letter in its joined form) and
laid out right to left (``python-bidi``: the visual order of each line) before it is drawn,
right-aligned. Amounts and dates are written by Babel in each language's way.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import arabic_reshaper
import matplotlib
from babel.dates import format_date
from babel.numbers import format_currency
from bidi import get_display
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

LETTER_LANGS = ("it", "en", "fr", "ar")
RTL = {"ar"}
LOCALE = {"it": "it_IT", "en": "en_GB", "fr": "fr_FR", "ar": "ar"}

FRENCH = {
    "SN",
    "ML",
    "GN",
    "CI",
    "BF",
    "NE",
    "TG",
    "BJ",
    "CM",
    "CD",
    "CG",
    "GA",
    "TD",
    "CF",
    "HT",
    "MG",
    "BI",
    "RW",
    "DJ",
    "KM",
}
ARABIC = {"MA", "DZ", "TN", "LY", "EG", "SD", "MR", "SY", "IQ", "JO", "LB", "PS", "YE", "SA", "SO"}


def household_language(nationality: str | None) -> str:
    """The language the letter is written in besides Italian, from the nationality
    (French for francophone Africa, Arabic for the Arab countries, else English)."""
    code = (nationality or "").upper()
    if code in ARABIC:
        return "ar"
    if code in FRENCH:
        return "fr"
    return "en"


TEXT: dict[str, dict[str, str]] = {
    "it": {
        "title": "Offerta di alloggio",
        "ref": "Offerta n. {offer} · tornata {round} · {today}",
        "dear": "Gentile {name},",
        "dwelling": "l'agenzia le offre un alloggio intero in {address}, {town}.",
        "bed": "l'agenzia le offre un posto letto nella stanza {room} della casa condivisa in "
        "{address}, {town}.",
        "move_in": "Può entrare nella casa dal {move_in}.",
        "rent": "L'affitto è di {rent} al mese.",
        "you_pay": "Lei paga {pays} al mese.",
        "agency_pays": "L'agenzia paga {agency} al mese, per {months} mesi.",
        "answer": "Risponda entro il {reply_by}: dica se accetta o no.",
        "call": "Per domande chiami {contact}.",
        "sign": "L'agenzia sociale per la casa",
    },
    "en": {
        "title": "Offer of a home",
        "ref": "Offer no. {offer} · round {round} · {today}",
        "dear": "Dear {name},",
        "dwelling": "the agency offers you a whole home at {address}, {town}.",
        "bed": "the agency offers you a bed in room {room} of the shared flat at {address}, "
        "{town}.",
        "move_in": "You can move in from {move_in}.",
        "rent": "The rent is {rent} a month.",
        "you_pay": "You pay {pays} a month.",
        "agency_pays": "The agency pays {agency} a month, for {months} months.",
        "answer": "Please answer by {reply_by}: say whether you accept or not.",
        "call": "If you have questions, call {contact}.",
        "sign": "The social housing agency",
    },
    "fr": {
        "title": "Offre de logement",
        "ref": "Offre n° {offer} · tour {round} · {today}",
        "dear": "Bonjour {name},",
        "dwelling": "l'agence vous offre un logement entier au {address}, {town}.",
        "bed": "l'agence vous offre un lit dans la chambre {room} de l'appartement partagé au "
        "{address}, {town}.",
        "move_in": "Vous pouvez emménager à partir du {move_in}.",
        "rent": "Le loyer est de {rent} par mois.",
        "you_pay": "Vous payez {pays} par mois.",
        "agency_pays": "L'agence paie {agency} par mois, pendant {months} mois.",
        "answer": "Répondez avant le {reply_by} : dites si vous acceptez ou non.",
        "call": "Pour toute question, appelez {contact}.",
        "sign": "L'agence sociale pour le logement",
    },
    "ar": {
        "title": "عرض سكن",
        "ref": "العرض رقم {offer} · الجولة {round} · {today}",
        "dear": "عزيزي {name}،",
        "dwelling": "تعرض عليك الوكالة مسكنا كاملا في {address}، {town}.",
        "bed": "تعرض عليك الوكالة سريرا في الغرفة {room} من الشقة المشتركة في {address}، {town}.",
        "move_in": "يمكنك الانتقال إلى السكن ابتداء من {move_in}.",
        "rent": "الإيجار {rent} في الشهر.",
        "you_pay": "أنت تدفع {pays} في الشهر.",
        "agency_pays": "الوكالة تدفع {agency} في الشهر، لمدة {months} شهرا.",
        "answer": "الرجاء الرد قبل {reply_by}: قل هل تقبل أم لا.",
        "call": "إذا كانت لديك أسئلة، اتصل بـ {contact}.",
        "sign": "الوكالة الاجتماعية للسكن",
    },
}
"""The letter's sentences in each language (short, plain words)."""


@dataclass(frozen=True)
class LetterData:
    """What a letter says: the household, the home, the money and the dates."""

    offer: int
    round_ref: str
    name: str
    kind: str  # "dwelling" or "bed"
    address: str
    town: str
    room: str | None
    rent_cents: int
    contribution_cents: int
    """What the agency pays each month (from a fund)."""
    months: int
    move_in: date
    reply_by: date
    contact: str
    today: date

    @property
    def pays_cents(self) -> int:
        """What the household pays each month: the rent less the agency's share."""
        return max(0, self.rent_cents - self.contribution_cents)


def _clean(text: str) -> str:
    """Babel's invisible marks and narrow spaces as plain spaces (the font draws those)."""
    return text.replace("\u200f", "").replace("\u202f", " ").replace("\xa0", " ")


def money(cents: int, lang: str) -> str:
    return _clean(format_currency(Decimal(cents) / 100, "EUR", locale=LOCALE[lang]))


def day(value: date, lang: str) -> str:
    return _clean(format_date(value, "dd/MM/yyyy", locale=LOCALE[lang]))


def sentences(data: LetterData, lang: str) -> list[str]:
    """The letter's text in ``lang``, one paragraph each, in logical order."""
    w = TEXT[lang]
    lines = [
        w["title"],
        w["ref"].format(offer=data.offer, round=data.round_ref, today=day(data.today, lang)),
        w["dear"].format(name=data.name),
        w[data.kind].format(address=data.address, town=data.town, room=data.room or ""),
        w["move_in"].format(move_in=day(data.move_in, lang)),
        w["rent"].format(rent=money(data.rent_cents, lang)),
        w["you_pay"].format(pays=money(data.pays_cents, lang)),
        w["agency_pays"].format(agency=money(data.contribution_cents, lang), months=data.months),
        w["answer"].format(reply_by=day(data.reply_by, lang)),
        w["call"].format(contact=data.contact),
        w["sign"],
    ]
    return lines


FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


@functools.cache
def _fonts() -> None:
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))


def _visual(text: str) -> str:
    """An Arabic line as drawn: letters in their joined forms, right to left."""
    return str(get_display(arabic_reshaper.reshape(text)))


def _wrap(text: str, font: str, size: float, width: float, rtl: bool) -> list[str]:
    """``text`` in lines no wider than ``width`` (measured as they will be drawn)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        shown = _visual(trial) if rtl else trial
        if line and pdfmetrics.stringWidth(shown, font, size) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    if line:
        lines.append(line)
    return lines


MARGIN = 56.0


def _section(c: Canvas, lines: list[str], lang: str, y: float) -> float:
    rtl = lang in RTL
    width, _height = A4
    for k, para in enumerate(lines):
        font, size = (FONT_BOLD, 15.0) if k == 0 else (FONT, 11.5)
        if k == 1:
            size = 9.5
        for line in _wrap(para, font, size, width - 2 * MARGIN, rtl):
            c.setFont(font, size)
            if rtl:
                c.drawRightString(width - MARGIN, y, _visual(line))
            else:
                c.drawString(MARGIN, y, line)
            y -= size * 1.45
        y -= 5 if k else 9
    return y


def offer_letter(data: LetterData, lang: str) -> bytes:
    """The letter as PDF bytes: in Italian, then (unless ``lang`` is Italian) in ``lang``
    on a page of its own."""
    if lang not in LETTER_LANGS:
        raise ValueError(f"lang: one of {', '.join(LETTER_LANGS)}, got {lang!r}")
    _fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(f"{TEXT['it']['title']} {data.offer}")
    c.setAuthor(TEXT["it"]["sign"])
    _, height = A4
    for k, each in enumerate(["it"] if lang == "it" else ["it", lang]):
        if k:
            c.showPage()
        _section(c, sentences(data, each), each, height - MARGIN - 10)
    c.showPage()
    c.save()
    return buf.getvalue()
