"""The last upload's speed, measured by the queue against the fake Dropbox, decides whether the monthly restore
drill of the newest cloud copy runs (wizard.core.drill.plan: not below 1 MB/s, and it says why)."""

from __future__ import annotations

from datetime import datetime

from tests.cloud.helpers import MiB, cloud_config, days_ago, make_archive
from wizard.core.cloud.queue import after_backup, last_upload_speed, status
from wizard.core.drill.auto import current_plan

NOW = datetime(2026, 11, 30, 10, 0)  # a Monday morning; the backup is at 20:00


def test_a_fast_upload_leaves_the_monthly_cloud_drill_due(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    config = cloud_config(dest)
    archive = make_archive(dest, days_ago(0), 9 * MiB)
    assert after_backup(config, archive).status == "ok"
    speed = last_upload_speed()
    assert speed is not None and speed > 1_000_000  # 127.0.0.1
    assert status(config).last_upload["speed"] == round(speed)
    plan = current_plan(config, NOW)
    assert [d.kind for d in plan.drills] == ["newest", "cloud"] and plan.skipped == []


def test_a_tiny_upload_says_nothing_about_the_line(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    config = cloud_config(dest)
    assert after_backup(config, make_archive(dest, days_ago(0), 200_000)).status == "ok"
    assert last_upload_speed() is None
    assert "cloud" in [d.kind for d in current_plan(config, NOW).drills]


def test_an_upload_under_1_mb_per_second_skips_the_cloud_drill_and_says_so(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    config = cloud_config(dest)
    archive = make_archive(dest, days_ago(0), 4 * MiB + 300_000)
    # A slow line: the upload (one call up to 8 MiB) takes five seconds to be answered.
    dropbox_server.add_fault("files/upload", "stall", retry_after=5)
    assert after_backup(config, archive).status == "ok"
    speed = last_upload_speed()
    assert speed is not None and speed < 1_000_000
    plan = current_plan(config, NOW)
    assert [d.kind for d in plan.drills] == ["newest"]
    assert plan.considered == ["cloud"]
    assert len(plan.skipped) == 1 and plan.skipped[0].startswith(
        "La copia en la nube no se prueba este mes: la última subida fue de ")
    assert "KB/s, menos de 1 MB/s" in plan.skipped[0]
