"""The upload queue: after each backup the archive goes to Dropbox, or waits (offline, signed out, full)
and says why; cloud retention with the local keep rules; nothing here ever raises to the backup."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import filelock

from tests.cloud.helpers import FOLDER, MiB, cloud_config, days_ago, make_archive
from wizard.core import paths
from wizard.core.backup import archive_name
from wizard.core.cloud.base import UploadProgress
from wizard.core.cloud.queue import (
    UPLOAD_LOCK_NAME,
    after_backup,
    pending,
    queue_path,
    status,
    sync_pending,
)
from wizard.core.config import RetentionConfig

KEEP_3 = RetentionConfig(keep_last=3, keep_daily=0, keep_weekly=0, keep_monthly=0)


def remote_names(server) -> list[str]:
    return server.names_in(FOLDER)


def test_after_a_backup_the_archive_is_uploaded_verified_and_leaves_the_queue(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 200_000)
    config = cloud_config(dest)
    events = []

    outcome = after_backup(config, archive, report=events.append)

    assert outcome.status == "ok" and outcome.ok
    assert outcome.message == "Nube: 1 respaldo subido y verificado en Dropbox."
    assert outcome.uploaded == [archive.name] and outcome.pending == 0
    assert dropbox_server.file(f"{FOLDER}/{archive.name}").data == archive.read_bytes()
    assert pending(config) == []
    assert status(config).last_upload["name"] == archive.name
    assert all(isinstance(e, UploadProgress) for e in events) and events[-1].percent == 100.0
    assert "respaldo_2026-11-28_20-00-00.zip a" in events[-1].current


def test_offline_the_backup_waits_in_the_queue_and_the_summary_says_why(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    config = cloud_config(dest)
    dropbox_server.stop()

    first = after_backup(config, make_archive(dest, days_ago(1), 1000))
    second = after_backup(config, make_archive(dest, days_ago(0), 1000))

    assert first.message == "Nube: 1 respaldo pendiente de subir (sin conexión)"
    assert second.status == "pending" and not second.ok and second.reason == "offline"
    assert second.message == "Nube: 2 respaldos pendientes de subir (sin conexión)"
    assert [p.name for p in pending(config)] == [archive_name(days_ago(0)), archive_name(days_ago(1))]
    assert all(p.reason == "offline" for p in pending(config))


def test_a_revoked_sign_in_keeps_the_backup_pending_and_asks_to_sign_in_again(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 1000)
    dropbox_server.revoke_all()

    outcome = after_backup(cloud_config(dest), archive)

    assert outcome.needs_login and outcome.reason == "login"
    assert outcome.message == "Nube: 1 respaldo pendiente de subir. Vuelve a iniciar sesión con Dropbox."
    assert archive.exists()


def test_a_full_dropbox_keeps_the_backup_pending_with_the_space_needed(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 3 * MiB)
    dropbox_server.allocated = dropbox_server.used() + MiB

    outcome = after_backup(cloud_config(dest), archive)

    assert outcome.reason == "full"
    assert outcome.message == ("Nube: 1 respaldo pendiente de subir. Tu Dropbox está lleno: para subir "
                               f"{archive.name} se necesitan 3.0 MB y quedan 1.0 MB. Libera espacio en "
                               "Dropbox o conserva menos respaldos.")


def test_dropbox_full_at_the_commit_keeps_the_backup_pending_and_the_next_pass_finishes_it(
        dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 9 * MiB)
    config = cloud_config(dest)
    dropbox_server.add_fault("files/upload_session/finish", "insufficient_space")

    outcome = after_backup(config, archive)

    assert outcome.status == "pending" and outcome.reason == "full"
    assert outcome.message == ("Nube: 1 respaldo pendiente de subir. Tu Dropbox no tiene espacio para subir "
                               f"{archive.name} (9.0 MB). Libera espacio en Dropbox o conserva menos respaldos.")
    assert [(p.name, p.reason) for p in pending(config)] == [(archive.name, "full")]
    assert remote_names(dropbox_server) == []

    assert sync_pending(config).status == "ok"
    assert dropbox_server.file(f"{FOLDER}/{archive.name}").data == archive.read_bytes()
    assert pending(config) == []
    assert len(dropbox_server.requests("files/upload_session/start")) == 1  # the same session was finished


def test_cloud_retention_applies_the_keep_rules_to_backups_only(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    dropbox_server.page_size = 2  # the listing comes in pages
    for n in range(1, 6):
        dropbox_server.put_file(f"{FOLDER}/{archive_name(days_ago(n))}", b"old backup %d" % n)
    for other in ("notas.txt", "respaldo_manual.zip", "respaldo_2026-11-01_20-00-00.zip.part"):
        dropbox_server.put_file(f"{FOLDER}/{other}", b"not ours to delete")
    dropbox_server.put_file(f"/Otra carpeta/{archive_name(days_ago(30))}", b"outside the folder")
    archive = make_archive(dest, days_ago(0), 5000)

    outcome = after_backup(cloud_config(dest, KEEP_3), archive)

    assert outcome.status == "ok"
    assert sorted(outcome.deleted) == sorted(archive_name(days_ago(n)) for n in (3, 4, 5))
    assert outcome.message.endswith("Se borraron 3 respaldos antiguos de la nube.")
    assert remote_names(dropbox_server) == sorted([archive.name, archive_name(days_ago(1)), archive_name(days_ago(2)),
                                                   "notas.txt", "respaldo_manual.zip",
                                                   "respaldo_2026-11-01_20-00-00.zip.part"])
    assert dropbox_server.names_in("/Otra carpeta") == [archive_name(days_ago(30))]


def test_when_full_what_retention_would_delete_anyway_makes_room_first(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    keep_2 = RetentionConfig(keep_last=2, keep_daily=0, keep_weekly=0, keep_monthly=0)
    dropbox_server.put_file(f"{FOLDER}/{archive_name(days_ago(2))}", bytes(2 * MiB))
    dropbox_server.put_file(f"{FOLDER}/{archive_name(days_ago(1))}", bytes(2 * MiB))
    dropbox_server.allocated = dropbox_server.used() + MiB
    archive = make_archive(dest, days_ago(0), 2 * MiB)

    outcome = after_backup(cloud_config(dest, keep_2), archive)

    assert outcome.status == "ok" and outcome.deleted == [archive_name(days_ago(2))]
    assert remote_names(dropbox_server) == sorted([archive_name(days_ago(1)), archive.name])


def test_old_pending_backups_the_keep_rules_would_delete_are_not_uploaded(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    keep_1 = RetentionConfig(keep_last=1, keep_daily=0, keep_weekly=0, keep_monthly=0)
    config = cloud_config(dest, keep_1)
    dropbox_server.stop()
    for n in (3, 2, 1):
        after_backup(config, make_archive(dest, days_ago(n), 1000))
    dropbox_server.start()

    outcome = sync_pending(config)

    assert outcome.uploaded == [archive_name(days_ago(1))] and pending(config) == []
    assert remote_names(dropbox_server) == [archive_name(days_ago(1))]


def test_an_archive_already_in_dropbox_with_the_same_content_is_not_sent_again(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 3000)
    dropbox_server.put_file(f"{FOLDER}/{archive.name}", archive.read_bytes())

    outcome = after_backup(cloud_config(dest), archive)

    assert outcome.status == "ok" and outcome.uploaded == [archive.name]
    assert dropbox_server.requests("files/upload") == []


def test_an_interrupted_session_upload_resumes_on_the_next_pass(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 17 * MiB)
    config = cloud_config(dest)
    cancel = threading.Event()

    def stop_after_two_chunks(event):
        if event.done_bytes >= 8 * MiB:
            cancel.set()

    first = after_backup(config, archive, report=stop_after_two_chunks, cancel=cancel)
    saved = pending(config)[0].resume
    second = sync_pending(config)

    assert first.status == "cancelled" and first.message == "Nube: 1 respaldo pendiente de subir (subida cancelada)"
    assert saved["offset"] >= 8 * MiB
    assert second.status == "ok"
    assert len(dropbox_server.requests("files/upload_session/start")) == 1
    assert dropbox_server.file(f"{FOLDER}/{archive.name}").data == archive.read_bytes()


def test_a_deleted_archive_leaves_the_queue_and_an_unplugged_disk_keeps_it(dropbox_server, signed_in, tmp_path):
    usb = tmp_path / "usb" / "respaldos"
    gone = make_archive(tmp_path / "respaldos", days_ago(1), 1000)
    unplugged = make_archive(usb, days_ago(0), 1000)
    config = cloud_config(tmp_path / "respaldos")
    dropbox_server.stop()
    after_backup(config, gone)
    after_backup(config, unplugged)
    dropbox_server.start()
    gone.unlink()
    usb.rename(tmp_path / "usb" / "elsewhere")

    outcome = sync_pending(config)

    assert [p.name for p in pending(config)] == [unplugged.name]
    assert outcome.message == "Nube: 1 respaldo pendiente de subir (la carpeta de los respaldos no está conectada)"


def test_with_the_cloud_off_nothing_is_queued(dropbox_server, tmp_path):
    dest = tmp_path / "respaldos"
    config = cloud_config(dest, provider="none")

    outcome = after_backup(config, make_archive(dest, days_ago(0), 1000))

    assert outcome.status == "disabled" and outcome.ok and outcome.message == ""
    assert not queue_path().exists()


def test_while_another_process_uploads_the_pass_says_so_and_waits_its_turn(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    paths.ensure_dir(paths.data_dir())
    with filelock.FileLock(str(paths.data_dir() / UPLOAD_LOCK_NAME)):  # as `respaldos sync` holds it
        outcome = after_backup(cloud_config(dest), make_archive(dest, days_ago(0), 1000))

    assert outcome.status == "busy" and outcome.pending == 1
    assert outcome.message == "Nube: 1 respaldo pendiente de subir (se están subiendo en este momento)"


def test_a_damaged_queue_file_is_set_aside_not_fatal(dropbox_server, signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    paths.ensure_dir(paths.data_dir())
    queue_path().write_text("{ not json", encoding="utf-8")

    outcome = after_backup(cloud_config(dest), make_archive(dest, days_ago(0), 1000))

    assert outcome.status == "ok"
    assert list(Path(paths.data_dir()).glob("nube_pendientes.json.invalido-*"))
    assert json.loads(queue_path().read_text(encoding="utf-8"))["items"] == []
