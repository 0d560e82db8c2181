"""The newest moment a database holds, best effort: which columns look like dates or times, and which stored
values are one (ISO 8601 text, dd/mm/yyyy, unix seconds or milliseconds in a sane range). Odd data is
skipped, never an error."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta

# Column names that hold a moment: Spanish and English POS schemas (fecha, hora, created_at, ts...).
DATE_NAME = re.compile(r"fecha|date|time|hora|creat|cread|modif|updat|actualiz|stamp|cuando|momento|^ts$|_ts$|^dt$"
                       r"|_at$|_en$", re.IGNORECASE)
DATE_TYPE = re.compile(r"date|time", re.IGNORECASE)
EARLIEST = datetime(1990, 1, 1)
_DMY = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y")


def latest_allowed(now: datetime | None = None) -> datetime:
    """Later than this is not a sale that happened (an expiry date, a sentinel like 9999-12-31)."""
    return (now or datetime.now()) + timedelta(days=1)


def looks_like_date_column(name: str, declared: str) -> bool:
    return bool(DATE_TYPE.search(declared or "") or DATE_NAME.search(name or ""))


def moment(value: object, now: datetime | None = None) -> datetime | None:
    """``value`` as a local naive datetime when it is one in a sane range (1990 to tomorrow), else None."""
    found: datetime | None = None
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        found = datetime(value.year, value.month, value.day)
    elif isinstance(value, bool):
        return None
    elif isinstance(value, (int, float)):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000.0
        try:
            found = datetime.fromtimestamp(seconds)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, (str, bytes)):
        found = _parse_text(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
    if found is None:
        return None
    if found.tzinfo is not None:
        found = found.astimezone().replace(tzinfo=None)
    if not EARLIEST <= found <= latest_allowed(now):
        return None
    return found


def _parse_text(text: str) -> datetime | None:
    text = text.strip()
    if not 8 <= len(text) <= 40 or not text[:1].isdigit():
        return None
    if text.isdigit():
        return moment(int(text)) if len(text) in (10, 13) else None
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    for fmt in _DMY:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def newest_of(values: Iterable[object], now: datetime | None = None) -> datetime | None:
    """The latest of ``values`` that are moments (None when none is)."""
    best: datetime | None = None
    for value in values:
        found = moment(value, now)
        if found is not None and (best is None or found > best):
            best = found
    return best


def mostly_dates(sample: list[object]) -> bool:
    """Whether a column's sampled text values are mostly moments (at least 3, and 80 % of them); numbers
    alone prove nothing (amounts, codes)."""
    values = [v for v in sample if isinstance(v, str)]
    if len(values) < 3:
        return False
    return sum(_parse_text(v) is not None for v in values) >= 0.8 * len(values)
