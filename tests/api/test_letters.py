"""Offer letters: a PDF in Italian and the household's language, whose text (read back
with pypdf) has the home, the money, the dates and whom to call; Arabic shaped and in
logical order; and the letters of a round's offers downloaded through the pages."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date

import pypdf
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.models import Offer
from api.letters import LetterData, household_language, offer_letter
from tests.api.conftest import World, page_client
from tests.api.test_api_rounds import OPEN, solve_and_wait

DATA = LetterData(
    offer=7,
    round_ref="RND-TEST",
    name="Moussa Diallo",
    kind="bed",
    address="Via Roma 3",
    town="San Severo",
    room="2",
    rent_cents=117000,
    contribution_cents=4550,
    months=12,
    move_in=date(2026, 8, 9),
    reply_by=date(2026, 8, 8),
    contact="Operatrice A, Foggia",
    today=date(2026, 8, 1),
)


def pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF")
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_the_italian_page_says_everything_in_plain_words() -> None:
    (it,) = pages(offer_letter(DATA, "it"))
    assert "Gentile Moussa Diallo" in it
    assert "stanza 2 della casa condivisa in Via Roma 3" in it and "San Severo" in it
    assert "L'affitto è di 1.170,00 € al mese" in it
    assert "Lei paga 1.124,50 € al mese" in it  # the rent less the agency's share
    assert "L'agenzia paga 45,50 € al mese, per 12 mesi" in it
    assert "dal 09/08/2026" in it and "Risponda entro il 08/08/2026" in it
    assert "Operatrice A, Foggia" in it


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "Dear Moussa Diallo",
                "You pay €1,124.50 a month",
                "Please answer by 08/08/2026",
                "The agency pays €45.50 a month, for 12 months",
            ],
        ),
        (
            "fr",
            [
                "Bonjour Moussa Diallo",
                "Vous payez 1 124,50 € par mois",
                "Répondez avant le 08/08/2026",
            ],
        ),
    ],
)
def test_a_second_page_in_the_household_language(lang: str, words: list[str]) -> None:
    it, other = pages(offer_letter(DATA, lang))
    assert "Gentile" in it
    flat = " ".join(other.split())
    for w in words:
        assert w in flat, (w, flat)


def test_arabic_is_shaped_and_in_logical_order() -> None:
    _it, ar = pages(offer_letter(DATA, "ar"))
    lines = [line.strip() for line in ar.splitlines() if line.strip()]
    # shaped: the letters are drawn in their joined forms (Arabic presentation forms)
    assert any("\ufe70" <= ch <= "\ufeff" for ch in lines[0])
    # and read back in logical order: the title and the signature, letter by letter
    assert unicodedata.normalize("NFKC", lines[0]) == "عرض سكن"
    assert unicodedata.normalize("NFKC", lines[-1]) == "الوكالة الاجتماعية للسكن"
    text = unicodedata.normalize("NFKC", ar)
    assert "Moussa Diallo" in text and "08/08/2026" in text and "09/08/2026" in text
    assert "1,124.50" in text and "45.50" in text and "1,170.00" in text
    assert "الرجاء الرد قبل" in text  # "please answer by"


def test_the_household_language_follows_its_nationality() -> None:
    assert [household_language(n) for n in ("SN", "ma", "GH", None, "RO")] == [
        "fr",
        "ar",
        "en",
        "en",
        "en",
    ]
    with pytest.raises(ValueError):
        offer_letter(DATA, "de")


def test_letters_of_a_round_through_the_pages(app: FastAPI, world: World, engine: Engine) -> None:
    client = page_client(app, world, "anna")
    headers = world.headers("anna")
    from fastapi.testclient import TestClient

    api = TestClient(app)
    ref = api.post("/api/v1/rounds", json=OPEN, headers=headers).json()["round"]["ref"]
    solve_and_wait(api, headers, ref)
    assert api.post(f"/api/v1/rounds/{ref}/offers", headers=headers).status_code == 201
    html = client.get(f"/rounds/{ref}").text
    links = re.findall(rf'href="/rounds/{ref}/offers/(\d+)/letter.pdf\?lang=(\w+)"', html)
    assert {lang for _, lang in links} == {"it", "en", "fr", "ar"}
    offer_id = links[0][0]
    with Session(engine) as s:
        o = s.get(Offer, int(offer_id))
        assert o is not None and o.reply_by is not None
        reply_by = o.reply_by
    res = client.get(f"/rounds/{ref}/offers/{offer_id}/letter.pdf?lang=ar")
    assert res.status_code == 200 and res.headers["content-type"] == "application/pdf"
    it, ar = pages(res.content)
    assert reply_by.strftime("%d/%m/%Y") in it and "Foggia" in it
    assert any("\ufe70" <= ch <= "\ufeff" for ch in ar)
    # another office's caseworker never gets the letter
    intruder = page_client(app, world, "luca")
    assert intruder.get(f"/rounds/{ref}/offers/{offer_id}/letter.pdf").status_code == 404
    # an offer past its reply-by date is marked overdue on the round's page
    with Session(engine) as s:
        for o in s.exec(select(Offer)):
            o.reply_by = date(2020, 1, 1)
            s.add(o)
        s.commit()
    assert "s-overdue" in client.get(f"/rounds/{ref}").text
