"""The pages in Italian and English: message catalogues and the reader's language.

Catalogues are ``api/locales/<lang>.json`` (flat key → text, ``{name}`` placeholders). The
language is ``?lang=it|en``, else the ``lang`` cookie, else the browser's
Accept-Language, else the default (Italian). A missing key renders as ``⟦key⟧`` so a test
can find it on any page.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

LANGS = ("it", "en")
MISSING = "⟦{}⟧"


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    text = resources.files("api").joinpath("locales", f"{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else LANGS[0]
        self.messages = catalogue(self.lang)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.messages.get(key)
        if text is None:
            return MISSING.format(key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.messages


def pick(query: str | None, cookie: str | None, accept: str | None, default: str) -> str:
    """The language to show: query, then cookie, then Accept-Language, then default."""
    for candidate in (query, cookie):
        if candidate in LANGS:
            return candidate
    if accept:
        ranked = []
        for part in accept.split(","):
            tag, _, params = part.strip().partition(";")
            q = 1.0
            if params.strip().startswith("q="):
                try:
                    q = float(params.strip()[2:])
                except ValueError:
                    q = 0.0
            ranked.append((q, tag.strip().lower()[:2]))
        for _q, tag in sorted(ranked, key=lambda x: -x[0]):
            if tag in LANGS:
                return tag
    return default if default in LANGS else LANGS[0]
