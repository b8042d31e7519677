"""The pages' languages with Babel: every key the templates and the code use is extracted
and translated in both catalogues; numbers, money and dates by locale, both ways; the
reader's language negotiated from the query, the cookie and Accept-Language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from api.i18n import LANGS, Translator, catalogue, pick

ROOT = Path(__file__).resolve().parents[2]


def _extracted() -> set[str]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = extract_from_dir(
        str(ROOT / "api"), method_map, options_map, keywords={"t": None, "N_": None}
    )
    return {str(message) for _file, _line, message, _comments, _ctx in found}


def test_every_extracted_key_is_translated_in_both_languages() -> None:
    keys = _extracted()
    assert len(keys) > 300  # the templates' and the code's keys were really found
    assert "nav.beneficiaries" in keys and "status.waiting" in keys
    for lang in LANGS:
        messages = catalogue(lang)
        missing = sorted(k for k in keys if not messages.get(k, "").strip())
        assert missing == [], (lang, missing)
    # nothing left in the catalogues that no template or code uses
    assert set(catalogue("it")) - keys == set()
    assert set(catalogue("it")) == set(catalogue("en"))


def test_italian_pages_read_and_write_numbers_the_italian_way() -> None:
    it, en = Translator("it"), Translator("en")
    assert it.parse_decimal("0,30") == Decimal("0.30")
    assert it.parse_decimal("1.234,56") == Decimal("1234.56")
    assert it.parse_decimal("1234,56") == Decimal("1234.56")
    assert it.parse_decimal("€ 420,00") == Decimal("420.00")
    assert it.parse_decimal("0.30") == Decimal("0.30")  # a dot that cannot group thousands
    assert en.parse_decimal("1,234.56") == Decimal("1234.56")
    assert en.parse_decimal("0.30") == Decimal("0.30")
    for bad in ("1,234.56", "mille", "1.2.3", ""):
        with pytest.raises(ValueError):
            it.parse_decimal(bad)
    with pytest.raises(ValueError):
        en.parse_decimal("1.234,56")
    assert it.money(123456) == "1.234,56\xa0€" and en.money(123456) == "€1,234.56"
    assert it.km(12.34) == "12,3 km" and en.km(1234.56) == "1,234.6 km"
    assert it.decimal_input(Decimal("1050.00"), 2) == "1050,00"
    assert it.date(date(2026, 8, 1)) == "01/08/2026" == en.date(date(2026, 8, 1))
    # an instant is shown in Italian time
    assert it.datetime(datetime(2026, 7, 31, 23, 30, tzinfo=UTC)) == "01/08/2026 01:30"


def test_the_language_is_negotiated() -> None:
    assert pick("en", "it", "it-IT", "it") == "en"
    assert pick(None, "en", "it-IT", "it") == "en"
    assert pick(None, None, "de-DE,en;q=0.8,it;q=0.5", "it") == "en"
    assert pick(None, None, "de-DE,it;q=0.9,en;q=0.8", "en") == "it"
    assert pick(None, None, "en;q=0,it", "en") == "it"
    assert pick(None, None, "de", "it") == "it"
    assert pick("fr", "xx", None, "en") == "en"
