"""Sizes as people read them: one formatter for every message, the window and the command line."""

from __future__ import annotations

from wizard.i18n import _


def format_size(n: float | None) -> str:
    """1536 -> "1.5 KB", 123456789 -> "118 MB" (three significant digits at most); None -> "?"."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            if unit == "B":
                return _("{n} B").format(n=int(value))
            return _("{n} {unit}").format(n=f"{value:.1f}" if value < 100 else f"{value:.0f}", unit=unit)
        value /= 1024
    return ""
