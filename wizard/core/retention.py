"""Pure: which archives to keep, with restic's meaning of keep_last / daily / weekly / monthly."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from wizard.core.config import RetentionConfig

T = TypeVar("T")

SAFETY_KEEP_DAYS = 30  # a backup made just before a restore is kept this long, outside the keep rules


def _keep_by_bucket(items: list[tuple[datetime, T]], count: int,
                    bucket: Callable[[datetime], Hashable]) -> set[int]:
    """Indexes (into newest-first ``items``) of the newest item of each of the ``count`` newest buckets."""
    kept: set[int] = set()
    seen: set[Hashable] = set()
    for index, (when, _item) in enumerate(items):
        if len(seen) >= count:
            break
        key = bucket(when)
        if key not in seen:
            seen.add(key)
            kept.add(index)
    return kept


def _kept_indexes(items: list[tuple[datetime, T]], policy: RetentionConfig) -> set[int]:
    if not items:
        return set()
    if not any((policy.keep_last, policy.keep_daily, policy.keep_weekly, policy.keep_monthly)):
        return set(range(len(items)))
    kept: set[int] = {0}  # the newest is never deleted
    kept |= set(range(min(policy.keep_last, len(items))))
    kept |= _keep_by_bucket(items, policy.keep_daily, lambda d: d.date())
    kept |= _keep_by_bucket(items, policy.keep_weekly, lambda d: d.isocalendar()[:2])
    kept |= _keep_by_bucket(items, policy.keep_monthly, lambda d: (d.year, d.month))
    return kept


def select_kept(archives: Sequence[tuple[datetime, T]], policy: RetentionConfig) -> list[T]:
    """The archives any rule keeps, newest first. With every rule at 0, everything is kept."""
    items = sorted(archives, key=lambda a: a[0], reverse=True)
    kept = _kept_indexes(items, policy)
    return [item for i, (_when, item) in enumerate(items) if i in kept]


def select_expired(archives: Sequence[tuple[datetime, T]], policy: RetentionConfig) -> list[T]:
    """The archives no rule keeps (to delete), newest first."""
    items = sorted(archives, key=lambda a: a[0], reverse=True)
    kept = _kept_indexes(items, policy)
    return [item for i, (_when, item) in enumerate(items) if i not in kept]


def select_expired_with_safety(archives: Sequence[tuple[datetime, T]], policy: RetentionConfig,
                               is_safety: Callable[[T], bool], now: datetime) -> list[T]:
    """Like ``select_expired``, for a folder that also holds safety backups (made before a restore).

    Those stay outside the keep rules: they are not counted by them (a safety backup must not push out the
    backup that was restored) and not deleted by them; each expires SAFETY_KEEP_DAYS days after it was made.
    """
    normal = [(when, item) for when, item in archives if not is_safety(item)]
    expired = select_expired(normal, policy)
    limit = now - timedelta(days=SAFETY_KEEP_DAYS)
    expired += [item for when, item in archives if is_safety(item) and when < limit]
    return expired
