"""Named fault-injection points, for the tests that kill a process mid-operation.

Off unless ``HOUSING_FAULT`` names the point: the process then exits at once with status
70, without cleaning up, as a power cut or an OOM kill would stop it. Production never sets
the variable.
"""

from __future__ import annotations

import os
import time

EXIT_STATUS = 70


def point(name: str) -> None:
    """Exit abruptly here if ``HOUSING_FAULT`` equals ``name``."""
    if os.environ.get("HOUSING_FAULT") == name:
        os._exit(EXIT_STATUS)


def hang(name: str) -> None:
    """Wait for ever here if ``HOUSING_FAULT`` names this point (a comma-separated list):
    a job still running when its server is killed."""
    if name in os.environ.get("HOUSING_FAULT", "").split(","):
        while True:
            time.sleep(3600)
