"""Before a password or a token goes to a file: with no system keyring, the window says what that means and
asks (wizard.core.secrets never stores it there on its own). ``[secrets] allow_file = true`` in the config
is the answer given in advance, as for ``respaldos run``."""

from __future__ import annotations

from typing import Any

from wizard.core import secrets
from wizard.i18n import _


def allowed_by_config(app: Any) -> bool:
    """``[secrets] allow_file`` of the window's configuration (False before the first one is saved)."""
    config = getattr(app, "config", None)
    return bool(config is not None and config.secrets.allow_file)


def question(refused: secrets.KeyringUnavailable) -> str:
    return _(
        "Esta computadora no tiene un llavero del sistema donde guardar {what} de forma segura (en Windows es el "
        "Administrador de credenciales; en Linux, GNOME Keyring o KWallet).\n\n"
        "Respaldos puede guardarlo en el archivo {path}, que solo tu usuario puede abrir, pero que no está "
        "cifrado: quien copie ese archivo, o el disco, podría usar {what}.\n\n"
        "¿Guardarlo en ese archivo?"
    ).format(what=refused.what, path=secrets.fallback_path())


def ask_to_store_in_file(dialogs: Any, refused: secrets.KeyringUnavailable) -> bool:
    """The question, on the Tk thread: True when the user agrees to the file."""
    return bool(dialogs.confirm(question(refused), _("Sin llavero del sistema"), yes=_("Guardar en el archivo"),
                                no=_("No guardar")))


def not_stored(refused: secrets.KeyringUnavailable) -> str:
    """What the window shows when the user said no."""
    return _("No se guardó {what}: no hay un llavero del sistema. Instala o desbloquea uno (en Linux, GNOME "
             "Keyring o KWallet) y vuelve a intentar.").format(what=refused.what)
