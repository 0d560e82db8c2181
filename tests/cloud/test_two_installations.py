"""Two installations (two tills, each with its own data folder and [machine] name) backing up to one shared
folder and one cloud folder: each one's keep rules, its cloud retention and making room in a full account
count and delete only its own backups; another's are never touched, and each one's lists and ``cloud status``
tell them apart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cloud.cli import respaldos
from tests.cloud.helpers import FOLDER, MiB, days_ago, make_archive
from tests.helpers import make_sales_db, write_config
from wizard.core import config as config_module
from wizard.core import machine
from wizard.core.backup import archive_tag, list_archives
from wizard.core.cloud.queue import after_backup
from wizard.core.config import Config, RetentionConfig
from wizard.core.jobs import run_backup_job
from wizard.core.restore import list_cloud_backups, list_local_backups

KEEP_2 = "[retention]\nkeep_last = 2\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n"
PROVIDERS = ["dropbox", "google_drive"]


@dataclass
class Till:
    name: str
    data_dir: Path
    config_path: Path

    @property
    def config(self) -> Config:
        return config_module.load(self.config_path)


class Shop:
    """Tills of one shop: their own data folders, one destination folder, one cloud account and folder."""

    def __init__(self, tmp_path: Path, monkeypatch, provider: str):
        self.tmp_path, self.monkeypatch, self.provider = tmp_path, monkeypatch, provider
        self.dest = tmp_path / "destino"
        self.dest.mkdir()

    def till(self, name: str, rows: int = 500) -> Till:
        home = self.tmp_path / name.replace(" ", "-").lower()
        (home / "datos").mkdir(parents=True)
        make_sales_db(home / "datos" / "punto_de_venta.db", rows=rows)
        config_path = write_config(home / "respaldos.toml", [home / "datos"], self.dest,
                                   f'[machine]\nname = "{name}"\n'
                                   f'[cloud]\nprovider = "{self.provider}"\nfolder = "{FOLDER}"\n'
                                   f'account = "Lupita Pérez"\n{KEEP_2}')
        return Till(name, home / "estado", config_path)

    def use(self, till: Till) -> machine.Machine:
        """From here on this process is ``till`` (its id file, queue and history are in its data folder)."""
        self.monkeypatch.setenv("RESPALDOS_DATA_DIR", str(till.data_dir))
        return machine.current(till.name)

    def backup(self, till: Till):
        me = self.use(till)
        result = run_backup_job(till.config)
        assert result.succeeded, result.message
        assert result.cloud is not None and result.cloud.status == "ok", result.cloud.message
        assert archive_tag(result.archive.name) == me.tag
        return result


def tagged(names, me: machine.Machine) -> list[str]:
    return sorted(n for n in names if archive_tag(n) == me.tag)


def cloud_names(provider: str, dropbox_server, drive_server) -> list[str]:
    if provider == "dropbox":
        return dropbox_server.names_in(FOLDER)
    return drive_server.names_in("Respaldos")


def shop_upload(shop: Shop, till: Till, archive: Path) -> None:
    """``archive`` uploaded by ``till``'s own queue (its keep rules keep everything)."""
    shop.use(till)
    config = till.config
    config.retention = RetentionConfig(keep_last=0, keep_daily=0, keep_weekly=0, keep_monthly=0)
    assert after_backup(config, archive).status == "ok"


def fill_account(provider: str, servers, room: int) -> None:
    dropbox_server, drive_server = servers
    if provider == "dropbox":
        dropbox_server.allocated = dropbox_server.used() + room
    else:
        drive_server.quota_total = drive_server.used() + room


@pytest.fixture(params=PROVIDERS)
def provider(request):
    """Each test runs with the real dropbox SDK against the fake Dropbox and with PyDrive2 against the fake
    Google Drive, both signed in to one account that the tills share."""
    request.getfixturevalue("signed_in" if request.param == "dropbox" else "google_signed_in")
    return request.param


@pytest.fixture
def servers(dropbox_server, drive_server):
    return dropbox_server, drive_server


def test_alternating_backups_of_two_tills_keep_two_of_each_locally_and_in_the_cloud(
        provider, servers, tmp_path, monkeypatch):
    shop = Shop(tmp_path, monkeypatch, provider)
    caja1, caja2 = shop.till("Caja 1"), shop.till("Caja 2", rows=700)
    made = {caja1.name: [], caja2.name: []}

    for _round in range(3):
        for till in (caja1, caja2):
            made[till.name].append(shop.backup(till).archive.name)

    me1, me2 = shop.use(caja1), shop.use(caja2)
    local = [a.name for a in list_archives(shop.dest)]
    remote = cloud_names(provider, *servers)
    for me, till in ((me1, caja1), (me2, caja2)):
        newest_two = sorted(made[till.name][-2:])
        assert tagged(local, me) == newest_two
        assert tagged(remote, me) == newest_two
    assert sorted(local) == sorted(remote) and len(local) == 4

    # Each till's lists put its own first and name the other one's.
    shop.use(caja1)
    for choices in (list_local_backups(caja1.config), list_cloud_backups(caja1.config)):
        assert [c.name for c in choices if c.mine] == sorted(made["Caja 1"][-2:], reverse=True)
        assert [c.mine for c in choices] == [True, True, False, False]
        assert {(c.name, c.owner) for c in choices if not c.mine} == {(n, "Caja 2") for n in made["Caja 2"][-2:]}
    shop.use(caja2)
    assert [c.name for c in list_cloud_backups(caja2.config) if not c.mine] == \
        sorted(made["Caja 1"][-2:], reverse=True)
    assert {c.owner for c in list_local_backups(caja2.config) if not c.mine} == {"Caja 1"}


def test_cloud_status_counts_this_tills_backups_and_names_the_others(provider, servers, tmp_path, monkeypatch):
    shop = Shop(tmp_path, monkeypatch, provider)
    caja1, caja2, bodega = shop.till("Caja 1"), shop.till("Caja 2"), shop.till("Bodega")
    for till in (caja1, caja2, caja2, bodega):
        shop.backup(till)

    shop.use(caja1)
    status1 = respaldos("cloud", "status", "--config", str(caja1.config_path))
    shop.use(caja2)
    status2 = respaldos("cloud", "status", "--config", str(caja2.config_path))

    assert status1.returncode == 0, status1.stderr
    lines = status1.stdout.splitlines()
    assert lines[2:4] == [f"Carpeta: {FOLDER}", "Pendientes de subir: 0"]
    assert lines[-2:] == ["Respaldos de este equipo en la nube: 1",
                          "De otros equipos (este equipo no los borra ni los cuenta): Bodega (1), Caja 2 (2)"]
    assert status2.stdout.splitlines()[-2:] == [
        "Respaldos de este equipo en la nube: 2",
        "De otros equipos (este equipo no los borra ni los cuenta): Bodega (1), Caja 1 (1)"]


def test_another_tills_backups_in_the_cloud_survive_this_tills_retention(provider, servers, tmp_path,
                                                                        monkeypatch):
    shop = Shop(tmp_path, monkeypatch, provider)
    caja1, caja2 = shop.till("Caja 1"), shop.till("Caja 2")
    other = shop.use(caja2)
    for n in range(2, 7):  # Caja 2's five backups, all older than Caja 1's: Caja 1's rules do not count them
        shop_upload(shop, caja2, make_archive(tmp_path / "caja2-copias", days_ago(n), 1000, seed=n, tag=other.tag))
    me = shop.use(caja1)
    keep_1 = RetentionConfig(keep_last=1, keep_daily=0, keep_weekly=0, keep_monthly=0)
    config = caja1.config
    config.retention = keep_1
    older = make_archive(shop.dest, days_ago(1), 1000, seed=1, tag=me.tag)
    after_backup(config, older)
    newer = make_archive(shop.dest, days_ago(0), 1000, seed=0, tag=me.tag)

    outcome = after_backup(config, newer)

    assert outcome.status == "ok" and outcome.deleted == [older.name]
    remote = cloud_names(provider, *servers)
    assert tagged(remote, me) == [newer.name]
    assert len(tagged(remote, other)) == 5


def test_a_full_account_makes_room_only_from_this_tills_expendable_backups(provider, servers, tmp_path,
                                                                         monkeypatch):
    shop = Shop(tmp_path, monkeypatch, provider)
    caja1, caja2 = shop.till("Caja 1"), shop.till("Caja 2")
    other = shop.use(caja2)
    for n in (5, 4, 3):  # Caja 2's, oldest of all: first in line if they were counted
        shop_upload(shop, caja2, make_archive(tmp_path / "caja2-copias", days_ago(n), 2 * MiB, seed=n,
                                              tag=other.tag))
    me = shop.use(caja1)
    config = caja1.config  # keep_last = 2
    mine = [make_archive(shop.dest, days_ago(n), 2 * MiB, seed=10 + n, tag=me.tag) for n in (2, 1)]
    for archive in mine:
        assert after_backup(config, archive).status == "ok"
    fill_account(provider, servers, MiB)
    new = make_archive(shop.dest, days_ago(0), 2 * MiB, seed=10, tag=me.tag)

    outcome = after_backup(config, new)

    assert outcome.status == "ok", outcome.message
    assert outcome.deleted == [mine[0].name]
    remote = cloud_names(provider, *servers)
    assert tagged(remote, me) == sorted([mine[1].name, new.name])
    assert len(tagged(remote, other)) == 3


def test_when_only_another_tills_backups_could_free_the_space_the_upload_waits_and_says_so(
        provider, servers, tmp_path, monkeypatch):
    shop = Shop(tmp_path, monkeypatch, provider)
    caja1, caja2 = shop.till("Caja 1"), shop.till("Caja 2")
    other = shop.use(caja2)
    for n in (5, 4, 3):
        shop_upload(shop, caja2, make_archive(tmp_path / "caja2-copias", days_ago(n), 2 * MiB, seed=n,
                                              tag=other.tag))
    me = shop.use(caja1)
    config = caja1.config
    mine = make_archive(shop.dest, days_ago(1), 2 * MiB, seed=11, tag=me.tag)
    assert after_backup(config, mine).status == "ok"
    fill_account(provider, servers, MiB)
    new = make_archive(shop.dest, days_ago(0), 2 * MiB, seed=10, tag=me.tag)

    outcome = after_backup(config, new)

    assert outcome.status == "pending" and outcome.reason == "full" and outcome.deleted == []
    assert outcome.message.endswith(
        f"conserva menos respaldos. La carpeta {FOLDER} también tiene respaldos de otros equipos (Caja 2), que "
        "este equipo no borra: para liberar ese espacio, conserva menos respaldos en esos equipos.")
    remote = cloud_names(provider, *servers)
    assert tagged(remote, me) == [mine.name] and len(tagged(remote, other)) == 3


def test_an_old_pending_backup_is_uploaded_when_only_another_tills_are_newer(provider, servers, tmp_path,
                                                                            monkeypatch):
    shop = Shop(tmp_path, monkeypatch, provider)
    caja1, caja2 = shop.till("Caja 1"), shop.till("Caja 2")
    other = shop.use(caja2)
    for n in (3, 2, 1):  # three of Caja 2's, newer than Caja 1's pending one
        shop_upload(shop, caja2, make_archive(tmp_path / "caja2-copias", days_ago(n), 1000, seed=n,
                                              tag=other.tag))
    me = shop.use(caja1)
    pending_one = make_archive(shop.dest, days_ago(4), 1000, seed=4, tag=me.tag)

    outcome = after_backup(caja1.config, pending_one)  # keep_last = 2

    assert outcome.status == "ok" and outcome.uploaded == [pending_one.name]
    assert tagged(cloud_names(provider, *servers), me) == [pending_one.name]


def test_cloud_status_offline_keeps_its_lines_and_says_the_backups_could_not_be_counted(
        provider, servers, tmp_path, monkeypatch):
    shop = Shop(tmp_path, monkeypatch, provider)
    caja1 = shop.till("Caja 1")
    shop.backup(caja1)
    for server in servers:
        server.stop()

    result = respaldos("cloud", "status", "--config", str(caja1.config_path))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2:4] == [f"Carpeta: {FOLDER}", "Pendientes de subir: 0"]
    assert lines[-1] == "Respaldos en la nube: no se pudieron contar (sin conexión)."
