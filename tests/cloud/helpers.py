"""Archives and configs for the cloud tests."""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta
from pathlib import Path

from wizard.core.backup import archive_name
from wizard.core.config import CloudConfig, Config, DestinationConfig, RetentionConfig, SourceConfig

MiB = 1 << 20
FOLDER = "/Respaldos"


def make_archive(folder: Path, when: datetime, size: int, seed: int = 0, tag: str | None = None) -> Path:
    """A file named like a backup (of the installation ``tag``, if given) with ``size`` pseudo-random bytes
    (incompressible, like a ZIP)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / archive_name(when, tag)
    path.write_bytes(random.Random(seed).randbytes(size))
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def days_ago(n: float, base: datetime = datetime(2026, 11, 28, 20, 0, 0)) -> datetime:
    return base - timedelta(days=n)


def cloud_config(dest: Path, keep: RetentionConfig | None = None, provider: str = "dropbox") -> Config:
    return Config(source=SourceConfig(paths=[str(dest.parent / "datos")]),
                  destination=DestinationConfig(folder=str(dest)),
                  retention=keep or RetentionConfig(),
                  cloud=CloudConfig(provider=provider, folder=FOLDER, account="Lupita Pérez"))
