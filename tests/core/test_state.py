"""When the config was saved: the app's own record, or the file's modification time after a hand edit."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

from wizard.core import paths, state


def _config(tmp_path, text="[source]\n"):
    path = tmp_path / "respaldos.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _set_mtime(path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_a_recorded_save_is_returned_as_is(tmp_path):
    path = _config(tmp_path)
    saved = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
    state.record_config_saved(path, saved)
    assert state.config_saved_at(path) == saved


def test_the_state_file_lives_in_the_data_dir(tmp_path):
    path = _config(tmp_path)
    state.record_config_saved(path, datetime(2026, 11, 20, 18, 30, tzinfo=UTC))
    assert state.state_path().parent == paths.data_dir()
    assert str(paths.data_dir()).startswith(os.environ["XDG_DATA_HOME"])
    data = json.loads(state.state_path().read_text(encoding="utf-8"))
    assert next(iter(data["config_saved"].values()))["saved_at"] == "2026-11-20T18:30:00+00:00"


def test_without_a_recorded_save_the_modification_time_counts(tmp_path):
    path = _config(tmp_path)
    edited = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    _set_mtime(path, edited)
    assert state.config_saved_at(path) == edited


def test_a_hand_edit_after_the_recorded_save_counts_as_the_save(tmp_path):
    path = _config(tmp_path)
    saved = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
    state.record_config_saved(path, saved)
    path.write_text("[source]\n# edited by the technician\n", encoding="utf-8")
    edited = saved + timedelta(days=2)
    _set_mtime(path, edited)
    assert state.config_saved_at(path) == edited


def test_the_record_wins_while_the_file_is_unchanged_even_if_saved_earlier(tmp_path):
    # The app may record the time it decided to save, a moment before the file was written.
    path = _config(tmp_path)
    saved = datetime.now(UTC) - timedelta(seconds=5)
    state.record_config_saved(path, saved)
    assert state.config_saved_at(path) == saved


def test_a_naive_time_is_taken_as_local_time(tmp_path):
    path = _config(tmp_path)
    state.record_config_saved(path, datetime(2026, 11, 20, 18, 30))
    got = state.config_saved_at(path)
    assert got.tzinfo is not None
    assert got == datetime(2026, 11, 20, 18, 30).astimezone()


def test_each_config_file_has_its_own_record(tmp_path):
    a = _config(tmp_path)
    b = tmp_path / "otra.toml"
    b.write_text("[source]\n", encoding="utf-8")
    state.record_config_saved(a, datetime(2026, 11, 20, tzinfo=UTC))
    state.record_config_saved(b, datetime(2026, 11, 21, tzinfo=UTC))
    assert state.config_saved_at(a) == datetime(2026, 11, 20, tzinfo=UTC)
    assert state.config_saved_at(b) == datetime(2026, 11, 21, tzinfo=UTC)


def test_a_missing_config_without_a_record_has_no_save_time(tmp_path):
    assert state.config_saved_at(tmp_path / "nada.toml") is None


def test_a_missing_config_keeps_its_record(tmp_path):
    path = tmp_path / "respaldos.toml"
    state.record_config_saved(path, datetime(2026, 11, 20, tzinfo=UTC))
    assert state.config_saved_at(path) == datetime(2026, 11, 20, tzinfo=UTC)


def test_a_corrupt_state_file_is_ignored_and_replaced(tmp_path):
    path = _config(tmp_path)
    edited = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    _set_mtime(path, edited)
    state.state_path().parent.mkdir(parents=True, exist_ok=True)
    state.state_path().write_bytes(b"{not json")
    assert state.config_saved_at(path) == edited
    state.record_config_saved(path, datetime(2026, 11, 20, tzinfo=UTC))
    assert state.config_saved_at(path) == datetime(2026, 11, 20, tzinfo=UTC)
