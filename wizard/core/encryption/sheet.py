"""The recovery sheet: one printable HTML page with the backups' password and how to open a backup anywhere.

Made when the password is set (``respaldos password set``, the window) and saved, readable only by the user
(0600), in the data folder and wherever the user chooses; printed from the browser. It is in the user's
language, every value HTML-escaped. No new dependency: HTML with an ``@media print`` rule for one A4 or
Letter page. docs/encryption.md shows what it says.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from pathlib import Path

from wizard.core import machine, paths
from wizard.core.fsutil import atomic_write_bytes
from wizard.i18n import _, system_language

logger = logging.getLogger(__name__)

SHEET_FILE_NAME = "hoja_de_recuperacion.html"
SEVEN_ZIP_URL = "https://www.7-zip.org"
_PROVIDER_TITLES = {"dropbox": "Dropbox", "google_drive": "Google Drive"}  # brand names, not translated

_STYLE = """
  @page { size: auto; margin: 14mm; }
  body { font-family: "Segoe UI", Arial, sans-serif; font-size: 11pt; line-height: 1.35; color: #000;
         max-width: 180mm; margin: 0 auto; }
  h1 { font-size: 17pt; margin: 0 0 2mm; }
  h2 { font-size: 12pt; margin: 5mm 0 1.5mm; }
  .meta { color: #333; margin: 0 0 4mm; }
  .password { border: 2px solid #000; padding: 4mm; margin: 3mm 0; }
  .password code { display: block; font-family: Consolas, "DejaVu Sans Mono", monospace; font-size: 18pt;
                   white-space: pre-wrap; word-break: break-all; margin: 1mm 0; }
  .warning { border: 2px solid #b00; background: #fdeaea; padding: 3mm; font-weight: bold; }
  table { border-collapse: collapse; }
  th { text-align: left; padding: 0.5mm 4mm 0.5mm 0; vertical-align: top; font-weight: normal; color: #333;
       white-space: nowrap; }
  td { padding: 0.5mm 0; word-break: break-all; }
  ol { margin: 1mm 0; padding-left: 6mm; }
  li { margin: 0.8mm 0; }
  .small { font-size: 9pt; color: #333; }
  @media print {
    body { font-size: 10pt; max-width: none; }
    .warning { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    .noprint { display: none; }
  }
"""


def default_path() -> Path:
    """Where the app keeps its copy: the user data folder."""
    return paths.data_dir() / SHEET_FILE_NAME


def render(config, password: str, now: datetime | None = None) -> str:
    """The sheet as one HTML document (``config`` gives the installation's name and where backups go)."""
    now = now or datetime.now()
    name = config.machine.name.strip() or machine.computer_name()
    installation = machine.installation_id()
    e = html.escape
    rows = _where_rows(config)
    where = "\n".join(f"    <tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in rows)
    steps = [
        _("Instale 7-Zip, que es gratuito, desde {url} (si la computadora no lo tiene).").format(url=SEVEN_ZIP_URL),
        _("Copie el respaldo (un archivo respaldo_….zip) a esa computadora: desde la memoria USB o el disco, o "
          "descárguelo de la nube."),
        _("Haga clic derecho sobre el archivo y elija 7-Zip → Extraer aquí."),
        _("Cuando lo pida, escriba la contraseña de esta hoja, tal como está (mayúsculas, espacios y signos "
          "cuentan)."),
    ]
    step_items = "\n".join(f"    <li>{e(step)}</li>" for step in steps)
    t = {key: e(text) for key, text in {
        "title": _("Hoja de recuperación de los respaldos"),
        "meta": _("Equipo: {name} · Fecha: {date}").format(name=name, date=now.strftime("%Y-%m-%d %H:%M")),
        "label": _("Contraseña de los respaldos:"),
        "count": _("{count} caracteres. Guarde esta hoja en un lugar seguro, lejos de la computadora.").format(
            count=len(password)),
        "warning": _("Si pierde esta contraseña, pierde los respaldos. Nadie puede abrirlos sin ella: ni "
                     "Respaldos, ni un técnico, ni Dropbox o Google."),
        "where": _("Dónde están los respaldos"),
        "how": _("Cómo abrir un respaldo en cualquier computadora"),
        "app": _("Con Respaldos instalado: escriba la contraseña cuando la ventana la pida al restaurar, o póngala "
                 "en la variable de entorno RESPALDOS_PASSWORD y use «respaldos restore ARCHIVO --to CARPETA»."),
        "change": _("Si cambia la contraseña"),
        "older": _("La nueva contraseña vale solo para los respaldos que se hagan después. Los anteriores se "
                   "siguen abriendo con la contraseña anterior: guarde también las hojas anteriores mientras "
                   "existan esos respaldos."),
        "id": _("Identificador de este equipo: {id}").format(id=installation),
    }.items()}
    return f"""<!DOCTYPE html>
<html lang="{e(system_language())}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t["title"]} – {e(name)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{t["title"]}</h1>
<p class="meta">{t["meta"]}</p>
<div class="password">
  {t["label"]}
  <code>{e(password)}</code>
  <span class="small">{t["count"]}</span>
</div>
<p class="warning">{t["warning"]}</p>
<h2>{t["where"]}</h2>
<table>
{where}
</table>
<h2>{t["how"]}</h2>
<ol>
{step_items}
</ol>
<p>{t["app"]}</p>
<h2>{t["change"]}</h2>
<p>{t["older"]}</p>
<p class="small">{t["id"]}</p>
</body>
</html>
"""


def _where_rows(config) -> list[tuple[str, str]]:
    rows = [(_("En este equipo o disco:"), config.destination.folder or _("(sin carpeta elegida)"))]
    provider = config.cloud.provider
    if provider and provider != "none":
        title = _PROVIDER_TITLES.get(provider, provider)
        account = f" ({config.cloud.account})" if config.cloud.account else ""
        rows.append((_("En la nube:"), _("{provider}{account}, carpeta {folder}").format(
            provider=title, account=account, folder=config.cloud.folder)))
    else:
        rows.append((_("En la nube:"), _("sin copia en la nube")))
    encryption = getattr(config, "encryption", None)
    if encryption is not None:
        scope = (_("solo las copias en la nube") if getattr(encryption, "scope", "cloud") == "cloud"
                 else _("las copias en la nube y las de este equipo"))
        rows.append((_("Protegidas con contraseña:"), scope))
    return rows


def write_sheet(config, password: str, target: Path | None = None, now: datetime | None = None) -> Path:
    """Write the sheet to ``target`` (default: ``default_path()``), readable only by the user; returns it."""
    path = Path(target) if target is not None else default_path()
    paths.ensure_dir(path.parent)
    atomic_write_bytes(path, render(config, password, now).encode("utf-8"), mode=0o600)
    logger.info("recovery sheet written to %s", path)
    return path
