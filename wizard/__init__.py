"""Respaldos: verified, scheduled backups of a shop's point-of-sale data."""

__version__ = "0.1.0"
APP_NAME = "Respaldos"
