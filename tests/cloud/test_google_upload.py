"""Uploads to the fake Google Drive with the real pydrive2/googleapiclient: resumable sessions in chunks, md5
verification, the app's folder (created once, found again), faults on the wire, a full account and a
revoked sign-in."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.cloud.helpers import FOLDER, MiB, days_ago, make_archive
from tests.fakes.drive_server import ROOT_ID, UPLOAD_GRANULARITY
from wizard.core import paths
from wizard.core.cloud import CloudFull, GoogleDriveProvider, NeedsLogin, Offline, VerificationFailed
from wizard.core.cloud.google.folders import FOLDER_STATE_FILE
from wizard.core.cloud.google.settings import CHUNK_SIZE, VERIFY_ATTEMPTS
from wizard.core.config import CloudConfig
from wizard.core.errors import Cancelled


def provider(folder: str = FOLDER) -> GoogleDriveProvider:
    return GoogleDriveProvider(CloudConfig(provider="google_drive", folder=folder))


def remote_bytes(server, path) -> bytes:
    stored = server.file(path.name)
    assert stored is not None, f"{path.name} is not in the fake Google Drive"
    return stored.data


def chunks(server) -> list[dict]:
    return [e for e in server.log if e["route"] == "upload.chunk"]


def test_a_small_archive_is_uploaded_verified_into_a_new_folder_in_my_drive(drive_server, google_signed_in,
                                                                           tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 300_000)
    seen = []

    remote = provider().upload(archive, progress=lambda done, total: seen.append((done, total)))

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    folder = drive_server.folder("Respaldos")
    assert folder.parents == [ROOT_ID] and folder.mime == "application/vnd.google-apps.folder"
    assert (remote.name, remote.size, remote.id) == (archive.name, 300_000, drive_server.file(archive.name).id)
    assert drive_server.file(archive.name).mime == "application/zip"
    assert len(drive_server.requests("upload.start")) == 1 and len(chunks(drive_server)) == 1
    assert seen[-1] == (300_000, 300_000)


@pytest.mark.slow
def test_a_40_mb_archive_goes_in_several_resumable_chunks(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 40 * MiB + 12345, seed=40)
    seen = []

    provider().upload(archive, progress=lambda done, total: seen.append(done))

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    lengths = [e["length"] for e in chunks(drive_server)]
    assert len(lengths) == 6 and sum(lengths) == archive.stat().st_size
    assert all(n == CHUNK_SIZE for n in lengths[:-1]) and CHUNK_SIZE % UPLOAD_GRANULARITY == 0
    assert seen == sorted(seen) and seen[-1] == archive.stat().st_size and len(seen) >= 5


def test_the_folder_is_created_once_and_found_again_by_its_stored_id(drive_server, google_signed_in, tmp_path):
    first, second = (make_archive(tmp_path, days_ago(n), 1000 + n, seed=n) for n in (1, 0))
    provider().upload(first)
    stored = json.loads((paths.data_dir() / FOLDER_STATE_FILE).read_text(encoding="utf-8"))
    lists_before = len(drive_server.requests("files.list"))

    provider().upload(second)  # a new provider: the next backup, or the app restarted

    assert stored == {"folder": FOLDER, "id": drive_server.folder("Respaldos").id}
    assert len(drive_server.folders("Respaldos")) == 1
    assert len(drive_server.requests("files.insert")) == 1
    assert drive_server.requests("files.get")[-1]["file_id"] == stored["id"]
    looked_up_by_title = len(drive_server.requests("files.list")) - lists_before
    assert looked_up_by_title == 1  # only the check for older copies of the new archive
    assert drive_server.names_in("Respaldos") == sorted([first.name, second.name])


def test_without_the_stored_id_the_folder_is_found_again_by_its_title(drive_server, google_signed_in, tmp_path):
    provider().upload(make_archive(tmp_path, days_ago(1), 1000, seed=1))
    (paths.data_dir() / FOLDER_STATE_FILE).unlink()

    provider().upload(make_archive(tmp_path, days_ago(0), 1000, seed=2))

    assert len(drive_server.folders("Respaldos")) == 1 and len(drive_server.requests("files.insert")) == 1
    assert len(drive_server.names_in("Respaldos")) == 2


def test_a_folder_the_user_trashed_or_made_by_hand_is_not_used(drive_server, google_signed_in, tmp_path):
    provider().upload(make_archive(tmp_path, days_ago(1), 1000, seed=1))
    drive_server.folder("Respaldos").trashed = True
    drive_server.add_folder("Respaldos", app_created=False)  # the user's own, invisible with drive.file
    archive = make_archive(tmp_path, days_ago(0), 1000, seed=2)

    provider().upload(archive)

    mine = [f for f in drive_server.folders("Respaldos") if f.app_created and not f.trashed]
    assert len(mine) == 1 and [f.title for f in drive_server.children(mine[0])] == [archive.name]


def test_a_nested_folder_is_made_level_by_level(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 1000)

    provider("Tienda/Respaldos").upload(archive)

    [outer] = drive_server.folders("Tienda")
    [inner] = drive_server.folders("Respaldos")
    assert outer.parents == [ROOT_ID] and inner.parents == [outer.id]
    assert [f.title for f in drive_server.children(inner)] == [archive.name]


def test_a_500_and_a_403_rate_limit_are_retried(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 3 * CHUNK_SIZE // 2, seed=5)
    drive_server.add_fault("upload.chunk", "500")
    drive_server.add_fault("upload.start", "403_rate")
    drive_server.add_fault("files.list", "503")

    provider().upload(archive)

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    assert [e["status"] for e in drive_server.requests("upload.start")] == [403, 200]
    assert chunks(drive_server)[0]["status"] == 500


def test_a_429_waits_for_retry_after(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 1000)
    drive_server.add_fault("upload.start", "429", retry_after=1)

    started = time.monotonic()
    provider().upload(archive)

    assert time.monotonic() - started >= 1.0
    assert [e["status"] for e in drive_server.requests("upload.start")] == [429, 200]
    assert remote_bytes(drive_server, archive) == archive.read_bytes()


def test_a_proxy_error_page_that_is_not_json_is_retried(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 1000)
    drive_server.add_fault("files.list", "502_html")

    provider().upload(archive)

    assert remote_bytes(drive_server, archive) == archive.read_bytes()


def test_a_chunk_whose_connection_closed_unanswered_is_sent_again_whole_in_the_same_session(
        drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 2 * CHUNK_SIZE + 777, seed=7)
    drive_server.add_fault("upload.chunk", "close", skip=1)

    provider().upload(archive)

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    sent = chunks(drive_server)
    closed = next(i for i, e in enumerate(sent) if e["fault"] == "close")
    # httplib2 resends such a request by itself: the chunk must go with its bytes (a stream already read
    # would go out empty and wait for the timeout)
    again = sent[closed + 1]
    assert (again["content_range"], again["length"], again["status"]) == (sent[closed]["content_range"],
                                                                           CHUNK_SIZE, 308)
    assert len(drive_server.requests("upload.start")) == 1


def test_a_connection_that_keeps_dropping_resumes_where_google_stopped(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 2 * CHUNK_SIZE + 777, seed=7)
    drive_server.add_fault("upload.chunk", "drop", skip=1, times=2, fraction=0.6)

    provider().upload(archive)

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    statuses = drive_server.requests("upload.status")
    assert statuses and all(e["status"] == 308 for e in statuses)
    for status in statuses:  # each time, the next chunk starts where Google said it stopped
        after = drive_server.log[drive_server.log.index(status) + 1]
        assert after["route"] == "upload.chunk" and after["content_range"].startswith(f"bytes {status['received']}-")
    assert any(CHUNK_SIZE < e["received"] < 2 * CHUNK_SIZE for e in statuses)  # mid-chunk: a part was kept
    assert len(drive_server.requests("upload.start")) == 1  # the same session, not a new upload


def test_a_last_chunk_whose_answer_was_lost_is_not_uploaded_again(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), CHUNK_SIZE + 99, seed=8)
    drive_server.add_fault("upload.chunk", "drop_after", skip=1, times=2)

    provider().upload(archive)

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    assert [e["status"] for e in drive_server.requests("upload.status")] == [200]  # "it is all there"
    assert len(drive_server.requests("upload.start")) == 1
    assert len(drive_server.names_in("Respaldos")) == 1


def test_an_md5_mismatch_deletes_the_remote_copy_and_uploads_again(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), CHUNK_SIZE + 5, seed=9)
    drive_server.add_fault("upload.chunk", "corrupt", skip=1)

    provider().upload(archive)

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    assert len(drive_server.requests("upload.start")) == 2
    assert [e["status"] for e in drive_server.requests("files.delete")] == [204]
    assert len(drive_server.names_in("Respaldos")) == 1


def test_a_copy_that_never_matches_gives_up_after_a_few_attempts(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 5000)
    drive_server.add_fault("upload.chunk", "corrupt", times=10)

    with pytest.raises(VerificationFailed, match="no coincidió"):
        provider().upload(archive)

    assert len(drive_server.requests("upload.start")) == VERIFY_ATTEMPTS
    assert drive_server.names_in("Respaldos") == []


def test_a_cancelled_upload_resumes_from_its_checkpoint_in_another_process(drive_server, google_signed_in,
                                                                          tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 3 * CHUNK_SIZE + 1, seed=17)
    cancel = threading.Event()
    saved = []

    def progress(done, total):
        if done >= 2 * CHUNK_SIZE:
            cancel.set()

    with pytest.raises(Cancelled):
        provider().upload(archive, progress=progress, cancel=cancel, checkpoint=saved.append)
    state = saved[-1]
    assert state["offset"] == 2 * CHUNK_SIZE and state["uri"].startswith(f"https://{drive_server.host}/upload/")

    provider().upload(archive, resume=json.loads(json.dumps(state)))  # as read back from the queue file

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    assert len(drive_server.requests("upload.start")) == 1
    assert sum(e["length"] for e in chunks(drive_server)) == archive.stat().st_size


def test_a_session_google_forgot_starts_over(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 2 * CHUNK_SIZE + 1, seed=18)
    saved = []
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        provider().upload(archive, progress=lambda done, total: cancel.set() if done else None, cancel=cancel,
                          checkpoint=saved.append)
    drive_server.forget_sessions()

    provider().upload(archive, resume=saved[-1])

    assert remote_bytes(drive_server, archive) == archive.read_bytes()
    assert [e["status"] for e in drive_server.requests("upload.status")] == [404]
    assert len(drive_server.requests("upload.start")) == 2


def test_a_full_drive_says_how_much_space_is_needed(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 9 * MiB, seed=9)
    drive_server.quota_total = drive_server.used() + 2 * MiB

    with pytest.raises(CloudFull) as caught:
        provider().upload(archive)

    assert str(caught.value) == (f"Tu Google Drive está lleno: para subir {archive.name} se necesitan 9.0 MB y "
                                 "quedan 2.0 MB. Libera espacio en Google Drive o conserva menos respaldos.")
    assert drive_server.requests("upload.start") == []


def test_a_drive_that_fills_up_during_the_upload_gives_the_same_message(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 3 * MiB, seed=3)
    drive_server.quota_total = drive_server.used() + 4 * MiB
    # the space is checked first, then another device takes it before the upload starts
    drive_server.add_fault("upload.start", "call", action=lambda: drive_server.put_file(
        ROOT_ID, "fotos.zip", bytes(2 * MiB), app_created=False))

    with pytest.raises(CloudFull, match=r"se necesitan 3\.0 MB y quedan 2\.0 MB"):
        provider().upload(archive)

    assert [e["reason"] for e in drive_server.requests("upload.start")] == ["storageQuotaExceeded"]


def test_a_revoked_sign_in_asks_to_sign_in_again_with_google(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 1000)
    drive_server.revoke_all()

    with pytest.raises(NeedsLogin) as caught:
        provider().upload(archive)

    assert str(caught.value) == "Vuelve a iniciar sesión con Google."
    assert [e["grant_type"] for e in drive_server.requests("oauth.token")] == ["refresh_token"]


def test_an_expired_access_token_is_refreshed_silently(drive_server, google_signed_in, tmp_path):
    first, second = (make_archive(tmp_path, days_ago(n), 1000 + n, seed=n) for n in (1, 0))
    gdrive = provider()
    gdrive.upload(first)
    drive_server.expire_access_tokens()

    gdrive.upload(second)

    assert len(drive_server.names_in("Respaldos")) == 2
    assert [e["grant_type"] for e in drive_server.requests("oauth.token")] == ["refresh_token"] * 2
    assert any(e.get("status") == 401 for e in drive_server.log)


def test_without_credentials_the_provider_asks_to_sign_in(drive_server, tmp_path):
    with pytest.raises(NeedsLogin, match="Inicia sesión con Google"):
        provider().list()


def test_credentials_that_cannot_be_read_ask_to_sign_in_again(drive_server, tmp_path):
    from wizard.core import secrets

    secrets.set_secret("google_drive", json.dumps({"refresh_token": "1//x", "client_id": "y"}))  # not oauth2client's

    with pytest.raises(NeedsLogin, match="Vuelve a iniciar sesión con Google"):
        provider().list()


def test_a_stopped_server_is_reported_as_offline_quickly(drive_server, google_signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 1000)
    drive_server.stop()

    started = time.monotonic()
    with pytest.raises(Offline, match="No hay conexión con Google Drive"):
        provider().upload(archive)
    assert time.monotonic() - started < 5
