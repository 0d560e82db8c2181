"""``respaldos test-restore --from-cloud NAME`` against the fake Dropbox with the real SDK: the copy is
downloaded (its content hash checked), tested, recorded, and the download deleted; a copy that does not match
its hash is a failed drill that names it."""

from __future__ import annotations

import json

from tests.cloud.cli import respaldos
from tests.cloud.test_download import shop_in_the_cloud
from wizard.core import history, restore
from wizard.core.drill.sandbox import sandboxes_dir


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_cloud_copy_is_downloaded_tested_and_deleted(dropbox_server, signed_in, tmp_path):
    _data, _usb, config_path, name = shop_in_the_cloud(dropbox_server, tmp_path)

    done = respaldos("test-restore", "--from-cloud", name, "--config", str(config_path), "--json", timeout=120)

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["archive"] == name and data["ok"] is True
    assert data["databases"][0]["tables"] == {"sales": 1500}
    assert [r["status"] for r in dropbox_server.requests("files/download")] == [200]
    assert leftovers(restore.downloads_dir()) == [], "the download is deleted at the end"
    assert leftovers(sandboxes_dir()) == []
    entry = history.read()[-1]
    assert (entry.trigger, entry.status, entry.archive) == ("test-restore", "ok", name)


def test_a_cloud_copy_that_does_not_match_its_hash_fails_the_drill(dropbox_server, signed_in, tmp_path):
    _data, _usb, config_path, name = shop_in_the_cloud(dropbox_server, tmp_path)
    dropbox_server.add_fault("files/download", "corrupt", times=99)

    done = respaldos("test-restore", "--from-cloud", name, "--config", str(config_path), timeout=120)

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"La copia de {name} descargada de Dropbox no coincidió")
    assert leftovers(restore.downloads_dir()) == []
    assert history.read()[-1].status == "failed"
