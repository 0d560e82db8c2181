"""Finding the client programs (mysqldump / gbak, mysql / isql): the entry's ``client`` setting, then PATH,
then the folders installers put them in."""

from __future__ import annotations

import glob
import os
import shutil
import sys
from pathlib import Path

from wizard.core.config import DatabaseSource
from wizard.core.servers.engine import Engine
from wizard.core.servers.errors import ClientNotFound
from wizard.core.servers.registry import engine_of
from wizard.i18n import _


def exe(name: str) -> str:
    return f"{name}.exe" if sys.platform == "win32" else name


def is_program(path: Path) -> bool:
    return path.is_file() and (sys.platform == "win32" or os.access(path, os.X_OK))


def usual_folders(engine: Engine) -> list[Path]:
    """Where installers put the client tools, newest version first (Windows: Program Files, XAMPP...)."""
    bases = []
    for var in ("ProgramW6432", "ProgramFiles", "ProgramFiles(x86)"):
        value = os.environ.get(var)
        if value and value not in bases:
            bases.append(value)
    if sys.platform == "win32":
        for value in (r"C:\Program Files", r"C:\Program Files (x86)"):
            if value not in bases:
                bases.append(value)
    folders = []
    for pattern in engine.install_patterns(bases):
        folders += sorted((Path(p) for p in glob.glob(pattern) if os.path.isdir(p)), reverse=True)
    return folders


def find_tool(db: DatabaseSource, role: str = "dump") -> Path:
    """The program for ``role`` ("dump": mysqldump/gbak; "query": mysql/isql; "restore": mysql/gbak).

    The entry's ``client`` (the program or its folder) wins; else PATH; else the usual install folders.
    """
    engine = engine_of(db)
    if role == "restore":
        role = engine.restore_role
    names = engine.tool_names(role)
    if role == "query" and engine.query_tool_on_path is not None:
        # only beside the dump tool, or by the engine's own names on PATH (Engine.query_tool_on_path)
        folder = find_tool(db, "dump").parent
        for name in names:
            if is_program(folder / exe(name)):
                return folder / exe(name)
        for name in engine.query_tool_on_path:
            found = shutil.which(name)
            if found:
                return Path(found)
        raise engine.query_tool_missing(folder)
    if db.client.strip():
        configured = Path(os.path.expanduser(db.client.strip()))
        if configured.is_file():
            if role == "dump":
                return configured
            folder = configured.parent
        elif configured.is_dir():
            folder = configured
        else:
            raise ClientNotFound(_(
                "No se encontró {client}, el programa indicado en client para la base de datos {name}. "
                "Corrige la ruta en la configuración o déjala vacía para que Respaldos lo busque.").format(
                client=configured, name=db.label))
        for name in names:
            if is_program(folder / exe(name)):
                return folder / exe(name)
        raise ClientNotFound(_(
            "No se encontró {tool} en {folder}. Indica en client la carpeta donde está instalado {tool} "
            "(las herramientas de cliente de {engine}).").format(
            tool=names[-1], folder=folder, engine=engine.display_name))
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    for folder in usual_folders(engine):
        for name in names:
            if is_program(folder / exe(name)):
                return folder / exe(name)
    raise ClientNotFound(_(
        "No se encontró el programa {tool} en esta computadora. Instala las herramientas de cliente de {engine} "
        "o indica en client de la configuración la carpeta donde está {tool}.").format(
        tool=names[-1], engine=engine.display_name))
