"""One rotating log file in the user log dir. Tokens and passwords are never passed to the logger."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from wizard.core import paths

LOG_FILE_NAME = "respaldos.log"


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE_NAME


def setup_logging(verbose: bool = False) -> Path | None:
    """Send records to the rotating log file (and to stderr with ``verbose``). Idempotent."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    target = log_file()
    if not any(getattr(h, "_respaldos", False) for h in root.handlers):
        try:
            paths.ensure_dir(target.parent)
            handler: logging.Handler = logging.handlers.RotatingFileHandler(
                target, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        except OSError:
            handler = logging.StreamHandler(sys.stderr)
            handler.setLevel(logging.WARNING)
            target = None
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._respaldos = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    if verbose:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    return target
