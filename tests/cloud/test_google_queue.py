"""Google Drive behind the same upload queue as Dropbox: listing and deleting in the app's folder only, cloud
retention that frees space for real (files.delete, not the trash), and the summary's messages for a full
Drive and a revoked sign-in; the local backup never depends on any of it."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from tests.cloud.helpers import FOLDER, MiB, cloud_config, days_ago, make_archive
from tests.fakes.drive_server import ROOT_ID
from wizard.core.backup import archive_name
from wizard.core.cloud import GoogleDriveProvider
from wizard.core.cloud.queue import after_backup, pending, queue_path, status
from wizard.core.config import CloudConfig, RetentionConfig

KEEP_3 = RetentionConfig(keep_last=3, keep_daily=0, keep_weekly=0, keep_monthly=0)


def provider() -> GoogleDriveProvider:
    return GoogleDriveProvider(CloudConfig(provider="google_drive", folder=FOLDER))


def drive_config(dest, keep: RetentionConfig | None = None):
    return cloud_config(dest, keep, provider="google_drive")


def test_after_a_backup_the_archive_is_in_google_drive_verified(drive_server, google_signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 200_000)
    config = drive_config(dest)
    events = []

    outcome = after_backup(config, archive, report=events.append)

    assert outcome.status == "ok"
    assert outcome.message == "Nube: 1 respaldo subido y verificado en Google Drive."
    assert drive_server.file(archive.name).data == archive.read_bytes()
    assert pending(config) == [] and status(config).last_upload["provider"] == "google_drive"
    assert events[-1].percent == 100.0


def test_the_listing_shows_only_the_files_in_the_apps_folder(drive_server, google_signed_in, tmp_path):
    provider().upload(make_archive(tmp_path, days_ago(0), 1000))
    folder = drive_server.folder("Respaldos")
    drive_server.page_size = 2  # the listing comes in pages
    for n in range(1, 5):
        drive_server.put_file(folder.id, archive_name(days_ago(n)), b"backup %d" % n)
    drive_server.put_file(folder.id, archive_name(days_ago(9)), b"in the trash", trashed=True)
    drive_server.add_folder("subcarpeta", folder.id)
    drive_server.put_file(ROOT_ID, archive_name(days_ago(20)), b"in My Drive, outside the folder")

    listed = provider().list()

    assert sorted(f.name for f in listed) == sorted(archive_name(days_ago(n)) for n in range(5))
    one = next(f for f in listed if f.name == archive_name(days_ago(1)))
    assert (one.size, one.content_hash) == (8, drive_server.file(one.name).metadata("")["md5Checksum"])
    assert one.modified is not None and one.id == drive_server.file(one.name).id


def test_an_absent_folder_lists_empty_and_is_not_created_by_looking(drive_server, google_signed_in):
    assert provider().list() == []
    assert drive_server.folders("Respaldos") == []


def test_delete_is_permanent_and_frees_the_space(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 3 * MiB)
    gdrive = provider()
    gdrive.upload(archive)
    used = drive_server.used()
    stored_id = drive_server.file(archive.name).id

    gdrive.delete(archive.name)
    gdrive.delete("respaldo_2000-01-01_00-00-00.zip")  # missing is fine

    assert stored_id not in drive_server.files  # gone, not in the trash
    assert drive_server.used() == used - 3 * MiB
    assert [e["method"] for e in drive_server.requests("files.delete")] == ["DELETE"]


def test_cloud_retention_deletes_only_backup_named_files_in_the_apps_folder(drive_server, google_signed_in,
                                                                           tmp_path):
    dest = tmp_path / "respaldos"
    folder = drive_server.add_folder("Respaldos")
    for n in range(1, 6):
        drive_server.put_file(folder.id, archive_name(days_ago(n)), b"old backup %d" % n)
    for other in ("notas.txt", "respaldo_manual.zip", "respaldo_2026-11-01_20-00-00.zip.part"):
        drive_server.put_file(folder.id, other, b"not ours to delete")
    elsewhere = drive_server.add_folder("Otra carpeta")
    drive_server.put_file(elsewhere.id, archive_name(days_ago(30)), b"outside the folder")
    drive_server.put_file(ROOT_ID, archive_name(days_ago(31)), b"in My Drive")
    users_own = drive_server.put_file(folder.id, archive_name(days_ago(40)), b"uploaded by hand", app_created=False)
    archive = make_archive(dest, days_ago(0), 5000)

    outcome = after_backup(drive_config(dest, KEEP_3), archive)

    assert outcome.status == "ok"
    assert sorted(outcome.deleted) == sorted(archive_name(days_ago(n)) for n in (3, 4, 5))
    assert outcome.message == ("Nube: 1 respaldo subido y verificado en Google Drive. Se borraron 3 respaldos "
                               "antiguos de la nube.")
    assert drive_server.names_in("Respaldos") == sorted([
        archive.name, archive_name(days_ago(1)), archive_name(days_ago(2)), archive_name(days_ago(40)),
        "notas.txt", "respaldo_manual.zip", "respaldo_2026-11-01_20-00-00.zip.part"])
    assert [f.title for f in drive_server.children(elsewhere)] == [archive_name(days_ago(30))]
    assert any(f.title == archive_name(days_ago(31)) for f in drive_server.children(ROOT_ID))
    assert users_own.id in drive_server.files  # drive.file: the app never sees what it did not make
    assert not any(f.trashed for f in drive_server.files.values())


def test_when_the_drive_is_full_what_retention_would_delete_anyway_makes_room_first(drive_server,
                                                                                   google_signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    keep_2 = RetentionConfig(keep_last=2, keep_daily=0, keep_weekly=0, keep_monthly=0)
    folder = drive_server.add_folder("Respaldos")
    drive_server.put_file(folder.id, archive_name(days_ago(2)), bytes(2 * MiB))
    drive_server.put_file(folder.id, archive_name(days_ago(1)), bytes(2 * MiB))
    drive_server.quota_total = drive_server.used() + MiB
    archive = make_archive(dest, days_ago(0), 2 * MiB)

    outcome = after_backup(drive_config(dest, keep_2), archive)

    assert outcome.status == "ok", outcome.message
    assert outcome.deleted == [archive_name(days_ago(2))]
    assert drive_server.names_in("Respaldos") == sorted([archive.name, archive_name(days_ago(1))])


def test_a_full_drive_keeps_the_backup_pending_with_the_space_needed(drive_server, google_signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 3 * MiB)
    drive_server.quota_total = drive_server.used() + MiB

    outcome = after_backup(drive_config(dest), archive)

    assert outcome.reason == "full"
    assert outcome.message == ("Nube: 1 respaldo pendiente de subir. Tu Google Drive está lleno: para subir "
                               f"{archive.name} se necesitan 3.0 MB y quedan 1.0 MB. Libera espacio en "
                               "Google Drive o conserva menos respaldos.")
    assert archive.exists()


def test_a_revoked_sign_in_keeps_the_backup_pending_and_asks_to_sign_in_with_google(drive_server,
                                                                                    google_signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 1000)
    drive_server.revoke_all()

    outcome = after_backup(drive_config(dest), archive)

    assert outcome.needs_login and outcome.reason == "login"
    assert outcome.message == "Nube: 1 respaldo pendiente de subir. Vuelve a iniciar sesión con Google."
    assert archive.exists() and [p.name for p in pending(drive_config(dest))] == [archive.name]


def test_offline_the_backup_waits_and_the_summary_says_why(drive_server, google_signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    drive_server.stop()

    outcome = after_backup(drive_config(dest), make_archive(dest, days_ago(0), 1000))

    assert outcome.reason == "offline"
    assert outcome.message == "Nube: 1 respaldo pendiente de subir (sin conexión)"


def test_google_that_keeps_refusing_keeps_the_backup_pending(drive_server, google_signed_in, tmp_path):
    dest = tmp_path / "respaldos"
    drive_server.add_fault("about.get", "429", retry_after=0, times=99)

    outcome = after_backup(drive_config(dest), make_archive(dest, days_ago(0), 1000))

    assert outcome.reason == "server"
    assert outcome.message == "Nube: 1 respaldo pendiente de subir (Google Drive no responde)"
    assert len(drive_server.requests("about.get")) == 6  # Backoff's attempts, then it gives up for now


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_queue_file_holding_a_google_upload_session_is_readable_only_by_its_owner(drive_server,
                                                                                      google_signed_in, tmp_path):
    # Anyone holding a resumable session's address can upload into it: it is a secret like a token.
    dest = tmp_path / "respaldos"
    archive = make_archive(dest, days_ago(0), 9 * MiB)
    cancel = threading.Event()
    previous = os.umask(0o022)  # the usual umask, which leaves new files readable by everyone
    try:
        outcome = after_backup(drive_config(dest), archive, cancel=cancel,
                               report=lambda event: event.done_bytes and cancel.set())
    finally:
        os.umask(previous)

    assert outcome.status == "cancelled"
    uri = pending(drive_config(dest))[0].resume["uri"]
    assert uri.startswith("https://") and uri in queue_path().read_text(encoding="utf-8")
    assert stat.S_IMODE(queue_path().stat().st_mode) == 0o600
