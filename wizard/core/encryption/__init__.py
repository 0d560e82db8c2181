"""Backups protected with a password (issue 19): the password and its history (``password.py``), the recovery
sheet (``sheet.py``). The encrypted ZIP format itself is in ``wizard.core.archive``; docs/encryption.md
describes both.
"""
