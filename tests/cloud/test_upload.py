"""Uploads to the fake Dropbox with the real SDK: small and session uploads, faults on the wire, tokens,
a full account, and a remote copy whose content_hash does not match."""

from __future__ import annotations

import threading
import time

import pytest

from tests.cloud.helpers import FOLDER, MiB, days_ago, make_archive
from wizard.core.cloud import CloudFull, DropboxProvider, NeedsLogin, Offline
from wizard.core.cloud.dropbox import CHUNK_SIZE, SMALL_FILE_LIMIT
from wizard.core.config import CloudConfig
from wizard.core.errors import Cancelled

UPLOAD_ROUTES = ("files/upload_session/start", "files/upload_session/append_v2", "files/upload_session/finish")


def provider() -> DropboxProvider:
    return DropboxProvider(CloudConfig(provider="dropbox", folder=FOLDER))


def remote_bytes(server, path) -> bytes:
    stored = server.file(f"{FOLDER}/{path.name}")
    assert stored is not None, f"{path.name} is not in the fake Dropbox"
    return stored.data


def chunk_lengths(server) -> list[int]:
    return [e["length"] for r in UPLOAD_ROUTES for e in server.requests(r) if e.get("status") == 200]


def test_a_small_archive_is_uploaded_in_one_call_and_verified(dropbox_server, signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 300_000)
    seen = []

    remote = provider().upload(archive, progress=lambda done, total: seen.append((done, total)))

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    assert remote.name == archive.name and remote.size == 300_000
    assert len(dropbox_server.requests("files/upload")) == 1
    assert dropbox_server.requests("files/upload_session/start") == []
    assert seen[-1] == (300_000, 300_000)


@pytest.mark.slow
def test_a_40_mb_archive_goes_by_upload_session_in_4_mib_multiples(dropbox_server, signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 40 * MiB + 12345, seed=40)
    seen = []

    provider().upload(archive, progress=lambda done, total: seen.append(done))

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    lengths = chunk_lengths(dropbox_server)
    assert sum(lengths) == archive.stat().st_size
    assert all(n % (4 * MiB) == 0 for n in lengths[:-1]) and lengths[-1] <= CHUNK_SIZE
    assert dropbox_server.requests("files/upload") == []
    assert seen == sorted(seen) and seen[-1] == archive.stat().st_size


def session_archive(tmp_path, mib: int = 13):
    size = mib * MiB + 777
    assert size > SMALL_FILE_LIMIT
    return make_archive(tmp_path, days_ago(0), size, seed=mib)


def test_a_500_is_retried(dropbox_server, signed_in, tmp_path):
    archive = session_archive(tmp_path)
    dropbox_server.add_fault("files/upload_session/append_v2", "500")

    provider().upload(archive)

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    assert dropbox_server.requests("files/upload_session/append_v2")[0].get("fault") == "500"


def test_a_429_waits_for_retry_after(dropbox_server, signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 1000)
    dropbox_server.add_fault("files/upload", "429", retry_after=1)

    started = time.monotonic()
    provider().upload(archive)

    assert time.monotonic() - started >= 1.0
    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()


def test_a_connection_dropped_mid_chunk_resends_that_chunk_only(dropbox_server, signed_in, tmp_path):
    archive = session_archive(tmp_path)
    dropbox_server.add_fault("files/upload_session/append_v2", "drop", fraction=0.5)

    provider().upload(archive)

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    appends = dropbox_server.requests("files/upload_session/append_v2")
    assert appends[0]["fault"] == "drop" and appends[1]["offset"] == appends[0]["offset"]
    assert sum(chunk_lengths(dropbox_server)) == archive.stat().st_size  # nothing sent twice but the lost piece


def test_a_chunk_stored_but_unanswered_continues_at_the_servers_offset(dropbox_server, signed_in, tmp_path):
    archive = session_archive(tmp_path)
    dropbox_server.add_fault("files/upload_session/append_v2", "drop_after")

    provider().upload(archive)

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    appends = dropbox_server.requests("files/upload_session/append_v2")
    wrong = [e for e in appends if e.get("error") == "incorrect_offset"]
    assert len(wrong) == 1 and wrong[0]["correct_offset"] == wrong[0]["offset"] + CHUNK_SIZE
    after = appends[appends.index(wrong[0]) + 1:]
    finish = dropbox_server.requests("files/upload_session/finish")[0]
    assert (after[0]["offset"] if after else finish["offset"]) == wrong[0]["correct_offset"]


def test_a_lost_answer_to_the_commit_is_checked_not_uploaded_again(dropbox_server, signed_in, tmp_path):
    archive = session_archive(tmp_path, 9)
    dropbox_server.add_fault("files/upload_session/finish", "drop_after")

    provider().upload(archive)

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    assert len(dropbox_server.requests("files/upload_session/start")) == 1


def test_an_expired_access_token_is_refreshed_silently(dropbox_server, signed_in, tmp_path):
    archive = session_archive(tmp_path)
    dropbox_server.add_fault("files/upload_session/append_v2", "expire_token")

    provider().upload(archive)

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    refreshes = [e for e in dropbox_server.requests("oauth2/token") if e["grant_type"] == "refresh_token"]
    assert len(refreshes) == 2
    assert any(e.get("error") == "expired_access_token" for e in dropbox_server.requests(
        "files/upload_session/append_v2"))


def test_a_revoked_sign_in_asks_to_sign_in_again(dropbox_server, signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 1000)
    dropbox_server.revoke_all()

    with pytest.raises(NeedsLogin, match="Vuelve a iniciar sesión con Dropbox"):
        provider().upload(archive)


def test_without_credentials_the_provider_asks_to_sign_in(dropbox_server, tmp_path):
    with pytest.raises(NeedsLogin, match="Inicia sesión con Dropbox"):
        provider().list()


def test_a_full_dropbox_says_how_much_space_is_needed(dropbox_server, signed_in, tmp_path):
    archive = session_archive(tmp_path, 9)
    dropbox_server.allocated = dropbox_server.used() + 2 * MiB

    with pytest.raises(CloudFull) as caught:
        provider().upload(archive)

    assert "se necesitan 9.0 MB y quedan 2.0 MB" in str(caught.value)
    assert dropbox_server.file(f"{FOLDER}/{archive.name}") is None


@pytest.mark.parametrize("size, commit", [(300_000, "files/upload"), (9 * MiB, "files/upload_session/finish")])
def test_dropbox_refusing_the_commit_for_lack_of_space_says_so_though_the_quota_showed_room(
        dropbox_server, signed_in, tmp_path, size, commit):
    archive = make_archive(tmp_path, days_ago(0), size)
    dropbox_server.add_fault(commit, "insufficient_space")

    with pytest.raises(CloudFull) as caught:
        provider().upload(archive)

    needed = "293 KB" if size < MiB else "9.0 MB"  # one size formatter: three significant digits
    assert str(caught.value) == (f"Tu Dropbox no tiene espacio para subir {archive.name} ({needed}). Libera "
                                 "espacio en Dropbox o conserva menos respaldos.")
    assert caught.value.reason == "full"
    assert [e["error"] for e in dropbox_server.requests(commit)] == ["path"]
    assert dropbox_server.file(f"{FOLDER}/{archive.name}") is None


def test_a_content_hash_mismatch_deletes_the_remote_copy_and_uploads_again(dropbox_server, signed_in, tmp_path):
    archive = session_archive(tmp_path, 9)
    dropbox_server.add_fault("files/upload_session/finish", "corrupt")

    provider().upload(archive)

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    assert len(dropbox_server.requests("files/upload_session/finish")) == 2
    assert [e["status"] for e in dropbox_server.requests("files/delete_v2")] == [200]


def test_a_copy_that_never_matches_gives_up_after_a_few_attempts(dropbox_server, signed_in, tmp_path):
    from wizard.core.cloud import VerificationFailed

    archive = make_archive(tmp_path, days_ago(0), 5000)
    dropbox_server.add_fault("files/upload", "corrupt", times=10)

    with pytest.raises(VerificationFailed, match="no coincidió"):
        provider().upload(archive)

    assert len(dropbox_server.requests("files/upload")) == 3
    assert dropbox_server.file(f"{FOLDER}/{archive.name}") is None


def test_a_cancelled_upload_resumes_from_its_checkpoint_without_a_new_session(dropbox_server, signed_in, tmp_path):
    archive = session_archive(tmp_path, 17)
    cancel = threading.Event()
    saved = []

    def progress(done, total):
        if done >= 2 * CHUNK_SIZE:
            cancel.set()

    with pytest.raises(Cancelled):
        provider().upload(archive, progress=progress, cancel=cancel, checkpoint=saved.append)
    state = saved[-1]
    assert state["offset"] >= 2 * CHUNK_SIZE

    provider().upload(archive, resume=state)

    assert remote_bytes(dropbox_server, archive) == archive.read_bytes()
    assert len(dropbox_server.requests("files/upload_session/start")) == 1
    assert sum(chunk_lengths(dropbox_server)) == archive.stat().st_size


def test_a_stopped_server_is_reported_as_offline_quickly(dropbox_server, signed_in, tmp_path):
    archive = make_archive(tmp_path, days_ago(0), 1000)
    dropbox_server.stop()

    started = time.monotonic()
    with pytest.raises(Offline, match="No hay conexión con Dropbox"):
        provider().upload(archive)
    assert time.monotonic() - started < 5
