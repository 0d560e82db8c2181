"""The backups' password: where it comes from, how it is kept, how strong it is.

Order (public contract): the ``RESPALDOS_PASSWORD`` environment variable (a new PC after a disaster, a
technician's laptop), then the operating system's keyring through ``wizard.core.secrets`` under a name tied
to this installation. Changing the password applies to new backups only: the previous ones stay in the
keyring too (append-only numbered entries, so a kill halfway loses nothing), and ``candidate_passwords``
lists every password an older archive may need, newest first. Passwords are never logged or printed.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
from collections.abc import Callable

from wizard.core import machine, secrets
from wizard.core.errors import UserError
from wizard.i18n import _

logger = logging.getLogger(__name__)

ENV_VAR = "RESPALDOS_PASSWORD"
MIN_LENGTH = 10
_HISTORY_LIMIT = 1000  # far more than anyone changes a password; bounds the keyring look-ups
# Typed in the window for this run (restoring on a new PC); kept in memory only, never in the keyring unless
# the user asks (keep_password).
_session: list[str] = []


def secret_name() -> str:
    """The keyring entry of this installation's backup password (``contraseña de respaldos:<id>``)."""
    return f"contraseña de respaldos:{machine.installation_id()}"


def _older_name(index: int) -> str:
    # Numbered from 1 (the oldest) upwards: a change writes one new entry, never renumbers the others.
    return f"{secret_name()}:anterior:{index}"


def get_password(config=None) -> str | None:
    """The password for new backups: ``RESPALDOS_PASSWORD`` when set (and not empty), else the keyring's."""
    value = os.environ.get(ENV_VAR)
    if value:
        return value
    return secrets.get_secret(secret_name())


def require_password(config=None, archive_name: str | None = None) -> str:
    """``get_password`` or a UserError that says how to supply it."""
    value = get_password(config)
    if value:
        return value
    raise PasswordMissing(archive_name)


class PasswordMissing(UserError):
    """No password in the environment or the keyring. ``archive_name`` is the archive that needs it, if any."""

    exit_code = 2

    def __init__(self, archive_name: str | None = None):
        self.archive_name = archive_name
        if archive_name:
            text = _("El respaldo {name} está protegido con contraseña y este equipo no la tiene guardada. "
                     "Escríbela en la ventana, o ponla en la variable de entorno RESPALDOS_PASSWORD y vuelve a "
                     "intentar.").format(name=archive_name)
        else:
            text = _("Los respaldos están protegidos con contraseña y este equipo no la tiene guardada. "
                     "Guárdala con «respaldos password set» o en la ventana, o ponla en la variable de entorno "
                     "RESPALDOS_PASSWORD.")
        super().__init__(text)


def older_passwords() -> list[str]:
    """The passwords used before the current one, newest first (from the keyring)."""
    found = []
    for index in range(1, _HISTORY_LIMIT + 1):
        value = secrets.get_secret(_older_name(index))
        if value is None:
            break
        found.append(value)
    return found[::-1]


def candidate_passwords(config=None) -> list[str]:
    """Every password an archive may have been written with, to try in this order: ``RESPALDOS_PASSWORD``,
    the current one, then the older ones newest first; no duplicates, no empty ones. A reader of an
    encrypted archive tries each (a wrong one fails the AES check value at once) and only when none opens it
    says the password is wrong; an empty list means ``PasswordMissing``."""
    values = [os.environ.get(ENV_VAR) or "", *reversed(_session), secrets.get_secret(secret_name()) or "",
              *older_passwords()]
    return list(dict.fromkeys(v for v in values if v))


def add_session_password(password: str) -> None:
    """A password typed in the window for an archive (a new PC): tried by candidate_passwords until the app
    closes, after RESPALDOS_PASSWORD; not used for new backups and not stored."""
    if password and password not in _session:
        _session.append(password)


def keep_password(config, password: str) -> None:
    """"Guardarla en este equipo" for a password typed to open an archive: the current one when this computer
    has none (new backups then use it), else one more older password (new backups keep the current)."""
    if secrets.get_secret(secret_name()) is None:
        set_password(config, password)
        return
    if password == secrets.get_secret(secret_name()) or password in older_passwords():
        return
    with _config_consent(config):
        secrets.set_secret(_older_name(sum(1 for _ in _older_indexes()) + 1), password)


def _config_consent(config) -> contextlib.AbstractContextManager:
    """``[secrets] allow_file`` is the user's consent to the user-only file given in advance; without it the
    caller's own (secrets.allow_file_storage, the window's question) still counts."""
    if getattr(getattr(config, "secrets", None), "allow_file", False):
        return secrets.allow_file_storage()
    return contextlib.nullcontext()


def set_password(config, password: str) -> None:
    """Keep ``password`` for new backups; the one it replaces joins the history (older backups still open).
    Refuses one shorter than MIN_LENGTH. Raises secrets.KeyringUnavailable when no keyring takes it and
    neither the config (``[secrets] allow_file``) nor the caller (``secrets.allow_file_storage``) agreed to
    the user-only file."""
    if len(password) < MIN_LENGTH:
        raise UserError(_too_short())
    with _config_consent(config):
        _store(password)
    logger.info("backup password changed (%d older kept)", len(older_passwords()))


def _store(password: str) -> None:
    name = secret_name()
    secrets.check_can_store(name)
    current = secrets.get_secret(name)
    if current and current != password and current not in older_passwords():
        # The history first: a kill between the two writes leaves the old one kept, never lost.
        count = sum(1 for _ in _older_indexes())
        secrets.set_secret(_older_name(count + 1), current)
    secrets.set_secret(name, password)


def _older_indexes():
    for index in range(1, _HISTORY_LIMIT + 1):
        if secrets.get_secret(_older_name(index)) is None:
            return
        yield index


def forget_password() -> None:
    """Remove the current password and its history from this computer (the backups then need
    RESPALDOS_PASSWORD or the recovery sheet)."""
    indexes = list(_older_indexes())
    for index in indexes:
        secrets.delete_secret(_older_name(index))
    secrets.delete_secret(secret_name())


def _too_short() -> str:
    return _("La contraseña debe tener al menos {n} caracteres.").format(n=MIN_LENGTH)


def check_new_password(password: str, confirmation: str) -> list[str]:
    """What is wrong with a new password, as sentences (empty when it can be used)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_too_short())
    if password != confirmation:
        problems.append(_("Las dos contraseñas no son iguales: escríbela otra vez en ambos campos."))
    return problems


# ---- strength -------------------------------------------------------------------------------------------
# A small, honest estimate (no dictionary attack model): guesses ~ charset ** length, after removing the
# parts an attacker tries first (very common passwords and words, repeated characters, keyboard and
# alphabet runs). See docs/encryption.md for why not zxcvbn.

_COMMON = (
    "123456", "12345678", "123456789", "1234567890", "password", "contraseña", "contrasena", "qwerty",
    "qwertyuiop", "asdfghjkl", "zxcvbnm", "abc123", "111111", "000000", "iloveyou", "teamo", "admin",
    "administrador", "welcome", "bienvenido", "letmein", "monkey", "dragon", "football", "futbol",
    "america", "mexico", "chivas", "pumas", "cruzazul", "tequila", "princesa", "hola", "holahola",
    "amor", "secreto", "respaldo", "respaldos", "tienda", "abarrotes", "ventas", "caja", "sunshine",
    "superman", "batman", "pokemon", "master", "shadow", "passw0rd", "p@ssw0rd", "qwerty123", "1q2w3e4r",
    "guadalupe", "maria", "jesus", "familia", "estrella", "corazon", "mariposa", "password1",
)
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm",
              "1q2w3e4r5t6y")


def _strip_common(text: str) -> tuple[str, bool]:
    lowered = text.lower()
    hit = False
    for word in sorted(_COMMON, key=len, reverse=True):
        if len(word) >= 4 and word in lowered:
            lowered = lowered.replace(word, "\0")  # one guess each: a common word counts as one symbol
            hit = True
    return lowered, hit


def _collapse_runs(text: str) -> tuple[str, bool]:
    """Repeated characters (aaaa) and runs of a sequence (1234, dcba, qwer) count as their first character."""
    out: list[str] = []
    hit = False
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and (text[j] == text[i] or _follows(text[j - 1], text[j])):
            j += 1
        if j - i >= 3:
            hit = True
            out.append(text[i])
        else:
            out.append(text[i:j])
        i = j
    return "".join(out), hit


def _follows(a: str, b: str) -> bool:
    for seq in _SEQUENCES:
        for s in (seq, seq[::-1]):
            k = s.find(a.lower())
            if k >= 0 and k + 1 < len(s) and s[k + 1] == b.lower():
                return True
    return False


_CLASSES: tuple[tuple[Callable[[str], bool], int], ...] = (
    (lambda c: c.islower() and c.isascii(), 26),
    (lambda c: c.isupper() and c.isascii(), 26),
    (str.isdigit, 10),
    (lambda c: not c.isascii() and c.isalpha(), 20),  # ñ, á, é...
    (lambda c: not c.isalnum(), 33),
)


_COMMON_BITS = 10  # a word from the list above: about one guess in a thousand


_WORD_BITS = 15  # any dictionary word: about one in 30,000
_WORD_LETTERS = 5  # a run of letters counts as one word per 5 letters ("perroazul": two)
_LETTER_RUN = re.compile(r"[^\W\d_]{3,}")


def _bits(password: str) -> tuple[float, bool, bool]:
    stripped, common = _strip_common(password)
    collapsed, runs = _collapse_runs(stripped)
    charset = sum(size for test, size in _CLASSES if any(test(c) for c in password)) or 1
    per_char = math.log2(charset)
    bits: float = collapsed.count("\0") * _COMMON_BITS
    rest = collapsed.replace("\0", " ")
    # Letters may be words ("Perro azul"): a run costs the cheaper of random letters and dictionary words.
    for run in _LETTER_RUN.findall(rest):
        words = max(1, round(len(run) / _WORD_LETTERS))
        bits += min(len(run) * per_char, words * _WORD_BITS + (1 if run[0].isupper() else 0))
    others = _LETTER_RUN.sub("", rest)
    bits += sum(1 if c == " " else per_char for c in others)  # a space between words adds little
    return bits, common, runs


def strength(password: str) -> tuple[int, str]:
    """0 (very weak) to 4 (very strong), and one hint in words for the window."""
    if not password:
        return 0, _("Escribe una contraseña de al menos {n} caracteres.").format(n=MIN_LENGTH)
    bits, common, runs = _bits(password)
    score = 0 if bits < 28 else 1 if bits < 40 else 2 if bits < 56 else 3 if bits < 72 else 4
    if len(password) < MIN_LENGTH:
        return min(score, 1), _too_short()
    if common and score < 3:
        return min(score, 1), _("Contiene una contraseña o palabra muy común, de las primeras que se prueban. "
                                "Agrega otras palabras que no vayan juntas.")
    if runs and score < 3:
        return score, _("Evita repetir caracteres (aaaa) y las secuencias (1234, abcd, qwerty).")
    if score < 3:
        if sum(1 for test, _size in _CLASSES if any(test(c) for c in password)) < 2:
            return score, _("Mezcla letras con números o signos, o mejor: una frase de cuatro o cinco palabras "
                            "que no vayan juntas.")
        return score, _("Hazla más larga: una frase de cuatro o cinco palabras es fácil de recordar y difícil "
                        "de adivinar.")
    if score == 3:
        return score, _("Buena contraseña. Unos caracteres más la harían muy difícil de adivinar.")
    return score, _("Muy buena contraseña.")
