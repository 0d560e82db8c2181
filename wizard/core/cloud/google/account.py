"""The signed-in Google account: the name shown for it and the free space in its Drive."""

from __future__ import annotations

from wizard.core.cloud.base import CloudError
from wizard.core.cloud.google.connection import DriveConnection
from wizard.core.cloud.google.settings import TITLE
from wizard.core.errors import Cancelled


def account_label(connection: DriveConnection) -> str:
    """The label shown for the account: "Name (email)", or whichever of the two Google gives."""
    about = connection.request(lambda: connection.client().GetAbout())
    user = about.get("user") or {}
    name, email = user.get("displayName") or about.get("name") or "", user.get("emailAddress") or ""
    if name and email:
        return f"{name} ({email})"
    return name or email or TITLE


def free_space(connection: DriveConnection) -> int | None:
    """Bytes left in the account's quota; None when it has no limit."""
    about = connection.request(lambda: connection.client().GetAbout())
    if about.get("quotaType") == "UNLIMITED" or not about.get("quotaBytesTotal"):
        return None
    used = about.get("quotaBytesUsedAggregate") or about.get("quotaBytesUsed") or 0
    return max(int(about["quotaBytesTotal"]) - int(used), 0)


def free_space_or_none(connection: DriveConnection) -> int | None:
    """``free_space``, or None when it cannot be asked now (for a message that names it if it can)."""
    try:
        return free_space(connection)
    except (CloudError, Cancelled):
        return None
