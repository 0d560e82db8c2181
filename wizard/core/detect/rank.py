"""Most likely first: a known program's data, then what changed minutes ago (a live database), then by kind
and size. Pure: the time is an argument."""

from __future__ import annotations

import math

from wizard.core.detect.found import Found

LIVE_SECONDS = 60 * 60  # changed within the hour: the POS is probably using it now
RECENT_SECONDS = 7 * 24 * 60 * 60
KIND_WEIGHT = {"mysql-database": 30, "firebird": 25, "access": 15, "sqlite": 10, "mysql-server": 20,
               "firebird-server": 20}


def score(found: Found, now: float) -> float:
    points = 0.0
    if found.program:
        points += 100
    if found.modified is not None:
        age = now - found.modified
        if age < LIVE_SECONDS:
            points += 50
        elif age < RECENT_SECONDS:
            points += 20
    points += KIND_WEIGHT.get(found.kind, 0)
    if found.size:
        points += min(math.log10(found.size), 12)  # 1 MB: +6, 1 GB: +9
    return points


def rank(found: list[Found], now: float) -> list[Found]:
    """``found`` ordered most likely first (stable for equal scores)."""
    return sorted(found, key=lambda f: -score(f, now))
