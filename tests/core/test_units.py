"""One size formatter for every message, the window and the command line."""

from __future__ import annotations

import pytest

from wizard.core.units import format_size


@pytest.mark.parametrize(
    "n, expected",
    [(0, "0 B"), (999, "999 B"), (1536, "1.5 KB"), (123_456_789, "118 MB"), (5 * 1024**3, "5.0 GB"),
     (None, "?")],
)
def test_format_size(n, expected):
    assert format_size(n) == expected
