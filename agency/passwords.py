"""Passwords staff may choose: at least 10 characters, not one of the 20,000 most common
passwords (``data/common-passwords.txt.gz``: the list Royce Williams compiled from public
breaches, as shipped by Django under the BSD licence), not containing the username, and
not a few characters repeated (``aaaaaaaaaa``, ``abababababab``, ``1231231231``).
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

MIN_PASSWORD = 10
MIN_DISTINCT = 4


@functools.cache
def common_passwords() -> frozenset[str]:
    data = resources.files("agency").joinpath("data", "common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def _repeated(password: str) -> bool:
    """A short unit repeated (``abcabcabca``) or hardly any distinct characters."""
    if len(set(password)) < MIN_DISTINCT:
        return True
    for unit in range(1, 4):
        pattern = password[:unit]
        if (pattern * (len(password) // unit + 1))[: len(password)] == password:
            return True
    return False


def problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    folded = password.casefold()
    if folded in common_passwords() or folded.replace(" ", "") in common_passwords():
        return "is one of the most common passwords: choose another"
    if _repeated(password):
        return "repeats a few characters: choose a passphrase"
    if username and username.casefold() in folded:
        return "must not contain the username"
    return None
