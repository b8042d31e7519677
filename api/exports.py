"""A round's export in the reader's language: the columns' headers, the values and the
reasons as the pages say them (:class:`agency.imports.ExportWords`)."""

from __future__ import annotations

from typing import Literal

from fastapi.responses import Response
from sqlmodel import Session

from agency import imports
from agency.models import OfferStatus, Round
from api.i18n import Translator
from matching.explain import REASONS

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_words(t: Translator) -> imports.ExportWords:
    values = {
        "placed": t("export.placed"),
        "unplaced": t("export.unplaced"),
        "dwelling": t("unit.dwelling"),
        "bed": t("unit.bed"),
        **{f"offer.{s.value}": t(f"offer.{s.value}") for s in OfferStatus},
    }
    return imports.ExportWords(
        headers={c: t(f"export.col.{c}") for c in imports.EXPORT_COLUMNS},
        values=values,
        reasons={code: t(f"reason.{code}") for code in REASONS},
        room=t("round.room", name="{name}"),
        sheet=t("export.sheet"),
    )


def export_response(
    session: Session, r: Round, fmt: Literal["csv", "xlsx"], t: Translator
) -> Response:
    """The round's households, placed and left out, as a download."""
    assert r.id is not None
    data = imports.export_placements(session, r.id, fmt, export_words(t))
    return Response(
        data,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{r.ref}-{t("export.file")}.{fmt}"'},
    )
