"""What a restore drill found: per database and in all, as the JSON of ``respaldos test-restore --json`` and as
one sentence in words ("El respaldo del lunes 30 a las 09:12 se restaura: 12,345 ventas, ...")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from wizard.core.names import parse_archive_name
from wizard.core.restore.dates import when_phrase
from wizard.i18n import _, ngettext

# A table that looks like the sales: its rows are what the sentence counts as "ventas".
SALES_NAME = re.compile(r"venta|sale|ticket", re.IGNORECASE)
SALES_EXACT = ("ventas", "venta", "sales", "sale", "tickets", "ticket")


@dataclass
class DrillProgress:
    """A step of a drill: ``phase`` is "download", "extract", "check" or "server"; ``detail`` names the member."""

    phase: str
    percent: float
    detail: str = ""


@dataclass
class DatabaseCheck:
    """One database of the backup as the drill found it (a member of the archive, opened or loaded)."""

    path: str  # the member in the archive
    kind: str  # "sqlite", "mysql" or "firebird"
    integrity: str  # "ok", or what the check (or the load) said
    tables: dict[str, int] = field(default_factory=dict)
    newest: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def sales(self) -> int | None:
        """Rows of the table that looks like the sales (``ventas``, ``sales``...), None without one."""
        found = [name for name in self.tables if SALES_NAME.search(name)]
        if not found:
            return None
        exact = [name for name in found if name.casefold() in SALES_EXACT]
        return self.tables[min(exact or found, key=len)]

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "integrity": self.integrity, "tables": dict(self.tables),
                "newest": self.newest.isoformat(timespec="seconds") if self.newest else None}

    @classmethod
    def from_dict(cls, data: dict) -> DatabaseCheck:
        newest = None
        if data.get("newest"):
            try:
                newest = datetime.fromisoformat(str(data["newest"]))
            except ValueError:
                newest = None
        tables = data.get("tables") or {}
        return cls(path=str(data.get("path", "")), kind=str(data.get("kind", "")),
                   integrity=str(data.get("integrity", "")),
                   tables={str(k): int(v) for k, v in tables.items() if isinstance(v, (int, float))},
                   newest=newest)


@dataclass
class DrillResult:
    """One drill: the archive's name, whether everything passed, how long it took, and the databases."""

    archive: str
    ok: bool
    seconds: float
    problem: str | None = None  # a sentence naming the archive and what failed
    databases: list[DatabaseCheck] = field(default_factory=list)
    when: datetime = field(default_factory=datetime.now)  # when the drill started
    cancelled: bool = False
    # Where the time went (the log's "drill of" line, bench/bench_drill.py; not in the JSON): verifying and
    # extracting the archive, and checking the SQLite databases extracted (integrity_check, counts).
    extract_seconds: float = 0.0
    check_seconds: float = 0.0

    def to_dict(self) -> dict:
        """Exactly the object ``respaldos test-restore --json`` prints (a public contract)."""
        return {"archive": self.archive, "ok": self.ok, "seconds": round(self.seconds, 1), "problem": self.problem,
                "databases": [d.to_dict() for d in self.databases]}

    @classmethod
    def from_dict(cls, data: dict, when: datetime | None = None) -> DrillResult:
        return cls(archive=str(data.get("archive", "")), ok=bool(data.get("ok")),
                   seconds=float(data.get("seconds") or 0.0), problem=data.get("problem") or None,
                   databases=[DatabaseCheck.from_dict(d) for d in data.get("databases") or [] if isinstance(d, dict)],
                   when=when or datetime.now())

    def figures(self, now: datetime | None = None) -> str:
        """ "12,345 ventas, último movimiento de hoy a las 19:42" (what the databases hold), or ""."""
        if not self.databases:
            return ""
        sales = [s for s in (d.sales() for d in self.databases) if s is not None]
        if sales:
            count = sum(sales)
            parts = [ngettext("{count} venta", "{count} ventas", count).format(count=f"{count:,}")]
        else:
            count = sum(d.rows for d in self.databases)
            parts = [ngettext("{count} fila", "{count} filas", count).format(count=f"{count:,}")]
        newest = max((d.newest for d in self.databases if d.newest is not None), default=None)
        if newest is not None:
            parts.append(_("último movimiento {when}").format(when=when_phrase(newest, now)))
        return ", ".join(parts)

    def sentence(self, now: datetime | None = None) -> str:
        """The short report in words: what restores and what it holds, or the problem."""
        if not self.ok:
            return self.problem or _("La prueba del respaldo {archive} falló.").format(archive=self.archive)
        created = parse_archive_name(self.archive)
        if created is not None:
            subject = _("El respaldo {when}").format(when=when_phrase(created, now))
        else:
            subject = _("El respaldo {archive}").format(archive=self.archive)
        figures = self.figures(now)
        if not figures:
            return _("{subject} se restaura: todos sus archivos coinciden con su manifiesto.").format(subject=subject)
        return _("{subject} se restaura: {figures}.").format(subject=subject, figures=figures)
