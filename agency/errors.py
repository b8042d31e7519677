"""What the agency's layer raises, by kind, so that each caller maps it once.

============================  =====================================================  ======
error                         meaning                                                HTTP
============================  =====================================================  ======
:class:`RecordError`          input the records refuse; ``field`` names what to fix  422
:class:`DuplicateError`       a record with the same unique key exists               409
:class:`NotFoundError`        no such record within the caller's office              404
:class:`RoundInputError`      a round action's input is wrong; ``field`` names it    422
:class:`RoundStateError`      the round's (or the records') state does not allow it  409
:class:`RoundConflict`        closing found units taken or funds short meanwhile     409
============================  =====================================================  ======

The service maps them to HTTP statuses in one place (``api/errors.py``); the command line
prints them. Every message starts with the field or the record it is about, and never
quotes a person's data.
"""

from __future__ import annotations


class RecordError(ValueError):
    """Input the records refuse; ``field`` names what to fix (the message starts with it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DuplicateError(RecordError):
    """A record with the same unique key (a fund code, a username) already exists."""


class NotFoundError(LookupError):
    """No such record within the caller's scope.

    ``denied`` is true when the record exists but belongs to another office: the caller
    must answer exactly as for a missing record, and may log the denied attempt.
    """

    def __init__(self, entity: str, ref: str, *, denied: bool = False) -> None:
        super().__init__(f"no {entity} {ref!r}")
        self.entity = entity
        self.ref = ref
        self.denied = denied


class RoundError(ValueError):
    """A round action that its state or its input does not allow (the message says why)."""


class RoundStateError(RoundError):
    """The round is not in a state that allows the action (e.g. answering the offers of a
    closed round), or the records are not (no household waiting)."""


class RoundInputError(RoundError):
    """The action's input is wrong: ``field`` names it (the message starts with it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RoundConflict(RoundStateError):  # noqa: N818  (the name staff and the API use)
    """Closing found units taken or funds short meanwhile; nothing was written."""

    def __init__(self, message: str, conflicts: list[str]) -> None:
        super().__init__(message + ": " + "; ".join(conflicts))
        self.conflicts = conflicts
