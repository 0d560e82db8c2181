"""Finding the POS data on this computer ("Buscar en este equipo", ``respaldos detect``).

One module per job:
    roots.py     where to look on each system (Windows: program folders, documents, fixed drives)
    headers.py   what a file is from its first bytes (SQLite, Firebird/InterBase, Access)
    walk.py      the walk over the folders: time budget, cancel, progress, unreadable folders listed
    servers.py   MySQL/MariaDB and Firebird servers here, and a MySQL server's databases (with a login)
    profiles.py  known POS programs, from profiles.toml (data, each fact with its source)
    rank.py      most likely first
    found.py     Found, DetectResult and the JSON shape
    describe.py  finds in words ("Encontramos SICAR: ...", "modificada hace 3 minutos")
    search.py    detect(): one search, all of the above

It never writes and never opens a database the way its program does. docs/detect.md.
"""

from __future__ import annotations

from wizard.core.detect.found import DetectResult, Found
from wizard.core.detect.search import MySQLLogin, detect
from wizard.core.detect.servers import mysql_databases

__all__ = ["DetectResult", "Found", "MySQLLogin", "detect", "mysql_databases"]
