"""The limits of the agency's fields, each declared once.

The tables (:mod:`agency.models`), the checked input models and the public views
(:mod:`agency.schemas`) all use these: a text's limit is its column's length, an amount's
its column's range, so no form, file or body can hold what the database would refuse.
Texts are stripped of surrounding spaces by the input models before they are measured.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

Name = Annotated[str, Field(min_length=1, max_length=100)]
"""A person's given or family name."""
Title = Annotated[str, Field(min_length=1, max_length=200)]
"""The name of a landlord, a fund, an office, a round or a member of staff."""
Address = Annotated[str, Field(min_length=1, max_length=300)]
"""A street address."""
Place = Annotated[str, Field(min_length=1, max_length=300)]
"""A municipality of Puglia as typed: its name (``Nardò``, ``nardo (LE)``) or ISTAT code."""
Phone = Annotated[str | None, Field(max_length=32)]
Email = Annotated[str | None, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]
Note = Annotated[str | None, Field(max_length=200)]
"""A short free text (a workplace, a tutor's name)."""
Ref = Annotated[str | None, Field(max_length=16)]
"""Another record's opaque ref (``L-7K2Q9MXA``)."""
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
"""A household's tag (``exploitation_victim``), which funds may require."""
MAX_TAGS = 20

Cents = Annotated[int, Field(ge=0, le=100_000_000_00)]
"""A budget or a grant: up to €100 million (a 64-bit column)."""
MonthlyCents = Annotated[int, Field(ge=0, le=10_000_000)]
"""An income or a rent a month: up to €100,000 (within a 32-bit column)."""
Lat = Annotated[float, Field(ge=39.7, le=42.3)]
"""A latitude in Puglia (with a margin)."""
Lon = Annotated[float, Field(ge=14.8, le=18.7)]
"""A longitude in Puglia (with a margin)."""
Month = Annotated[str | None, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", max_length=7)]
"""A month written ``YYYY-MM`` (a season's or an opening's first or last month)."""
Seats = Annotated[int, Field(ge=1, le=100)]
"""The seats of a shuttle line's minibus."""
