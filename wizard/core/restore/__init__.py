"""Restore: pick a backup, see what is in it, and put the POS data back safely.

One module per job (the order of a restore in place, and why, are in docs/design.md, "Restore"):

- ``catalog``: which backups there are, local and in the cloud, and whose each one is;
- ``contents``: what a backup holds, and the rows of its databases;
- ``downloads``: a cloud copy downloaded for a restore, its checksum checked, then deleted;
- ``owner``: whose backup an archive is; ``targets``: where each file goes back to, every name checked;
- ``in_use``: is the POS still using a database that would be overwritten;
- ``safety``: the backup lock and the safety backup made before anything is overwritten;
- ``put_back``: each file written beside its target, checked, then renamed over it;
- ``in_place`` and ``into_folder``: the two restores, step by step (``progress`` numbers the steps);
- ``report``: what a finished restore says; ``dates``: a backup's moment in words;
- ``databases``: SQLite files opened read-only, counted and integrity-checked;
- ``dumps``: server-database dumps, which go back into their server, never to a place on disk.

Importers use ``from wizard.core import restore`` and ``restore.X``; every public name is exported here.
"""

from __future__ import annotations

from wizard.core.restore.catalog import BackupChoice, list_cloud_backups, list_local_backups, merge_choices
from wizard.core.restore.contents import BackupContents, count_rows_in_archive, read_contents
from wizard.core.restore.databases import DatabaseCheck, TableCount, count_rows
from wizard.core.restore.dates import changes_lost_sentence, when_phrase
from wizard.core.restore.downloads import cloud_download_name, download_backup, downloaded, downloads_dir
from wizard.core.restore.dumps import ServerDump, dumps_named, restore_dump_from_cloud, server_dumps
from wizard.core.restore.in_place import OnlyServerDatabases, RestoreFailed, restore_to_original
from wizard.core.restore.in_use import PosInUse, check_not_in_use, database_in_use
from wizard.core.restore.into_folder import folder_for, restore_to_folder
from wizard.core.restore.owner import ArchiveOwner, OtherMachineBackup, archive_owner, other_machine_sentence
from wizard.core.restore.progress import Report, RestoreProgress, phase_sentence
from wizard.core.restore.report import RestoreReport
from wizard.core.restore.safety import SAFETY_TRIGGER
from wizard.core.restore.targets import folders_to_overwrite, original_targets
from wizard.core.retention import SAFETY_KEEP_DAYS

__all__ = [
    "SAFETY_KEEP_DAYS", "SAFETY_TRIGGER", "ArchiveOwner", "BackupChoice", "BackupContents", "DatabaseCheck",
    "OnlyServerDatabases", "OtherMachineBackup", "PosInUse", "Report", "RestoreFailed", "RestoreProgress",
    "RestoreReport", "ServerDump", "TableCount", "archive_owner", "changes_lost_sentence", "check_not_in_use",
    "cloud_download_name", "count_rows", "count_rows_in_archive", "database_in_use", "download_backup",
    "downloaded", "downloads_dir", "dumps_named", "folder_for", "folders_to_overwrite", "list_cloud_backups",
    "list_local_backups", "merge_choices", "original_targets", "other_machine_sentence", "phase_sentence",
    "read_contents", "restore_dump_from_cloud", "restore_to_folder", "restore_to_original", "server_dumps",
    "when_phrase",
]
