"""The "Restaurar..." dialog, one module per view or job:

- ``dialog``: the window, its three views, and the start of a restore of files (in place or into a folder);
- ``choose_view``: the list of backups; ``contents_tree``: the chosen one's contents;
- ``server_databases``: server databases restored as new ones; ``progress_view`` and ``result_view``;
- ``job``: the worker thread a restore runs on; ``scale``: the dialog's size at the user's text size.
"""

from __future__ import annotations

from wizard.ui.restore.dialog import RestoreDialog, open_restore_dialog

__all__ = ["RestoreDialog", "open_restore_dialog"]
