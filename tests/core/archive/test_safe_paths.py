"""Member names that could leave the folder restored into are unsafe; ordinary ones are safe."""

from __future__ import annotations

import pytest

from tests.core.archive.helpers import EVIL_NAMES, SHOP_ROOT, TEXT_MEMBER
from wizard.core.archive import unsafe_member_reason


@pytest.mark.parametrize("evil_name", EVIL_NAMES)
def test_every_zip_slip_name_is_unsafe_and_ordinary_names_are_safe(evil_name):
    assert unsafe_member_reason(evil_name) is not None
    assert unsafe_member_reason(f"{SHOP_ROOT}/Año 2026/..algo raro.txt") is None
    assert unsafe_member_reason(TEXT_MEMBER) is None
