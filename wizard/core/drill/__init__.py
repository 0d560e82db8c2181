"""Restore drills: prove that a backup really gives the shop its data back (``respaldos test-restore``).

One module per job (what is checked and why: docs/drills.md):
    run.py            run_drill: the archive, the sandbox, every member against the manifest, each database
    sandbox.py        the private folder in the user cache, its room, removed at the end or by the next drill
    sqlite_check.py   an SQLite database: integrity_check, rows of every table, the newest date
    server_check.py   a server dump loaded into a throwaway copy, checked, dropped (and leftovers of kills)
    server_queries.py what is asked of each engine's server (MySQL/MariaDB, Firebird), one class each
    newest.py         which columns and values are dates (best effort)
    priority.py       the drill's thread at low CPU and I/O priority
    result.py         DrillProgress, DatabaseCheck, DrillResult (its JSON and its sentence)
    records.py        drills in the run history: record, last_drill, latest_drills, passed_archives
"""

from __future__ import annotations

from wizard.core.drill.records import last_drill, latest_drills, passed_archives, result_of
from wizard.core.drill.result import DatabaseCheck, DrillProgress, DrillResult
from wizard.core.drill.run import DrillUsage, newest_own_archive, run_drill

__all__ = ["DatabaseCheck", "DrillProgress", "DrillResult", "DrillUsage", "last_drill", "latest_drills",
           "newest_own_archive", "passed_archives", "result_of", "run_drill"]
