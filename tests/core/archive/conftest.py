"""Fixtures for the archive tests; the helpers' asserts are rewritten like a test's."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.core.archive.helpers")

from tests.core.archive.helpers import SHOP_ROOT, back_up, make_shop  # noqa: E402 - after the line above


@pytest.fixture
def shop_archive(tmp_path) -> Path:
    """A real backup of the shop's folder, made by run_backup."""
    source = tmp_path / SHOP_ROOT
    make_shop(source)
    return back_up(source, tmp_path / "Respaldos USB", tmp_path / "respaldos.toml")
