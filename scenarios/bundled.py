"""The example files shipped with the package, in ``scenarios/examples/``.

The Foggia-area round (61 households, 25 dwellings, 6 shared flats, three funds) is the
example of the README, the base of the example scenarios and the data set the agency's demo
seeds (the command line hands it to :func:`agency.demo.seed`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from matching.instance import Instance, instance_from_dict, parse_json

EXAMPLE_ROUND = "foggia-round.json"


def examples_dir() -> Path:
    """The folder of the shipped examples (scenario files and the example round)."""
    return Path(str(resources.files("scenarios").joinpath("examples")))


def example_round() -> Instance:
    """The Foggia-area example round, ``scenarios/examples/foggia-round.json``."""
    text = (examples_dir() / EXAMPLE_ROUND).read_text(encoding="utf-8")
    return instance_from_dict(parse_json(text), source=EXAMPLE_ROUND)
