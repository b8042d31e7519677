"""Special-category data kept encrypted at rest: a household's tags (among them those that
reveal a victim's status), its priority's breakdown (which names them) and the places it
must avoid (where the people who exploited it are).

They are encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a
key kept **outside the database**: ``HOUSING_DATA_KEY`` (one key, or several separated by
commas: the first encrypts, every one decrypts, so a key can be rotated), or
``HOUSING_DATA_KEY_FILE`` (a file holding the same). ``housing keygen`` writes a new key; the
demo writes one next to its database. Without a key, reading or writing those fields fails
with :class:`DataKeyError`, saying how to set one; nothing is ever stored in clear.

The columns use :class:`SealedJSON`: the value is a JSON string holding the token, so the
schema keeps its JSON columns and the application sees plain lists. What leaves the agency
is filtered here too: :func:`public_tags` drops the victim tags, and
:func:`seal_snapshot` / :func:`unseal_snapshot` keep a round's stored snapshot sealed.
"""

from __future__ import annotations

import json
import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.types import TypeDecorator

KEY_ENV = "HOUSING_DATA_KEY"
KEY_FILE_ENV = "HOUSING_DATA_KEY_FILE"
TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80, base64)

VICTIM_TAGS = frozenset({"exploitation_victim", "trafficking_victim", "violence_victim"})
"""Tags that reveal that a household's member is a victim (with any tag starting
``victim``): never shown outside the household's own office, never to planners."""

SEALED_FIELDS = ("tags", "avoid")
"""A beneficiary's fields of an instance that a round's stored snapshot keeps sealed."""


class DataKeyError(RuntimeError):
    """No key, or a wrong one, for the protected data."""


def is_victim_tag(tag: str) -> bool:
    return tag in VICTIM_TAGS or tag.startswith("victim")


def public_tags(tags: list[str] | None) -> list[str]:
    """The tags that may be shown outside the household's own office."""
    return [t for t in tags or [] if not is_victim_tag(t)]


def public_breakdown(lines: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A priority's breakdown without the lines that name a victim's status."""
    return [x for x in lines or [] if not any(is_victim_tag(str(v)) for v in x.values())]


def new_key() -> str:
    """A new random key, as ``housing keygen`` prints it."""
    return Fernet.generate_key().decode()


def write_key_file(path: Path) -> bool:
    """Write a new key to ``path`` (readable by its owner only) unless one is there;
    True if written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as fh:
        fh.write(new_key() + "\n")
    return True


def key_file_beside(database: Path) -> Path:
    """Where the demo keeps the key of an embedded database (``demo.sqlite3.key``)."""
    return database.with_name(database.name + ".key")


def use_key_file_beside(database: Path) -> None:
    """Use the key file next to an embedded database when no key is configured."""
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        return
    path = key_file_beside(database)
    if path.exists():
        os.environ[KEY_FILE_ENV] = str(path)


def _key_text() -> str:
    text = os.environ.get(KEY_ENV, "").strip()
    if text:
        return text
    file = os.environ.get(KEY_FILE_ENV, "").strip()
    if file:
        try:
            return Path(file).read_text().strip()
        except OSError as exc:
            raise DataKeyError(
                f"{KEY_FILE_ENV}: cannot read the key file ({exc.strerror})"
            ) from None
    raise DataKeyError(
        f"no key for the protected data: set {KEY_ENV} (make one with `housing keygen`) "
        f"or {KEY_FILE_ENV}"
    )


@lru_cache(maxsize=4)
def _fernet(text: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.strip().encode()) for k in text.split(",") if k.strip()])
    except (ValueError, TypeError):
        raise DataKeyError(
            f"{KEY_ENV}: not a valid key (32 url-safe base64-encoded bytes)"
        ) from None


def seal(value: Any) -> str:
    """``value`` (JSON-ready) encrypted under the current key."""
    return _fernet(_key_text()).encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def unseal(token: str) -> Any:
    try:
        return json.loads(_fernet(_key_text()).decrypt(token.encode()))
    except InvalidToken:
        raise DataKeyError(
            "the protected data was sealed under another key: set the key it was written with"
        ) from None


class SealedJSON(TypeDecorator[Any]):
    """A JSON column whose value is stored encrypted (a JSON string holding the token).

    A value stored in clear before the column was sealed is read as it is."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else seal(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
            return unseal(value)
        return value


def seal_snapshot(instance: dict[str, Any]) -> dict[str, Any]:
    """A round's instance as it is stored: each household's tags and avoid zones sealed."""
    out = dict(instance)
    people = []
    for b in instance.get("beneficiaries", []):
        hidden = {k: b[k] for k in SEALED_FIELDS if b.get(k)}
        kept = {k: v for k, v in b.items() if k not in SEALED_FIELDS}
        people.append({**kept, "sealed": seal(hidden)} if hidden else kept)
    out["beneficiaries"] = people
    return out


def unseal_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """The instance of a stored snapshot, its sealed fields opened (kept in memory only)."""
    out = dict(data)
    people = []
    for b in data.get("beneficiaries", []):
        b = dict(b)
        token = b.pop("sealed", None)
        if token:
            b.update(unseal(token))
        people.append(b)
    out["beneficiaries"] = people
    return out
