"""The drill's sandbox: a folder of its own in the user cache folder (never the POS folders, never the
destination), named with our pid and marked with the installation, where databases are extracted and opened;
deleted at the end whatever happens, and by the next drill when a kill skipped that."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from datetime import datetime
from pathlib import Path
from typing import Self

import platformdirs

from wizard.core import machine, oserrors, paths
from wizard.core.fsutil import remove_stale_dirs
from wizard.core.units import format_size
from wizard.i18n import _

logger = logging.getLogger(__name__)

SANDBOXES_DIR_NAME = "pruebas"
PREFIX = "prueba-"  # prueba-<pid>-<hex>: remove_stale_dirs tells a killed run's folder by its pid
OWNER_FILE = "propietario.json"
SPARE = 32 << 20  # room kept free beyond the largest database, for SQLite's own temporary files


def sandboxes_dir() -> Path:
    return Path(platformdirs.user_cache_dir(paths.APP_DIR_NAME, appauthor=False)) / SANDBOXES_DIR_NAME


def remove_leftovers(parent: Path | None = None) -> list[Path]:
    """The sandboxes of drills that were killed (their pid is gone)."""
    return remove_stale_dirs(parent or sandboxes_dir(), PREFIX)


class Sandbox:
    """``with Sandbox() as box:`` a new private folder ``box.path``, removed on the way out."""

    def __init__(self, parent: Path | None = None):
        self.parent = parent or sandboxes_dir()
        self.path: Path | None = None

    def __enter__(self) -> Self:
        remove_leftovers(self.parent)
        with oserrors.plain_errors(self.parent, oserrors.DOWNLOAD):
            self.parent.mkdir(parents=True, exist_ok=True)
            path = self.parent / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
            path.mkdir(mode=0o700)
            self.path = path
            owner = {"pid": os.getpid(), "installation": machine.installation_id(),
                     "started": datetime.now().astimezone().isoformat(timespec="seconds")}
            (path / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def remove(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            if self.path.exists():
                logger.warning("sandbox %s could not be removed; the next drill tries again", self.path)
            self.path = None

    def file(self, name: str) -> Path:
        assert self.path is not None
        return self.path / name

    def room_problem(self, archive: str, need: int) -> str | None:
        """The sentence when the sandbox's disk lacks room for ``need`` bytes (the largest database), else None."""
        assert self.path is not None
        try:
            free = shutil.disk_usage(self.path).free
        except OSError as exc:
            logger.info("free space of %s unknown: %s", self.path, exc)
            return None
        if free >= need + SPARE:
            return None
        return _("No se pudo probar el respaldo {archive}: la prueba necesita {need} libres en {folder} para abrir su "
                 "base de datos más grande y solo hay {free}. Libera espacio en ese disco y vuelve a intentar.").format(
            archive=archive, need=format_size(need + SPARE), folder=self.parent, free=format_size(free))
