"""Where Respaldos keeps its own files (platformdirs), and the RESPALDOS_CONFIG override."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_DIR_NAME = "Respaldos"
CONFIG_FILE_NAME = "respaldos.toml"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False))


def data_dir() -> Path:
    """History, queue, state and the backup lock. RESPALDOS_DATA_DIR moves them (portable installs,
    the self-test)."""
    env = os.environ.get("RESPALDOS_DATA_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False))


def default_config_path() -> Path:
    """``--config`` wins over RESPALDOS_CONFIG, which wins over the platform default."""
    env = os.environ.get("RESPALDOS_CONFIG")
    if env:
        return Path(env)
    return config_dir() / CONFIG_FILE_NAME


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
