"""WinZip AES-256 encryption of ZIP members (AE-2), the format 7-Zip, WinRAR, WinZip and libarchive open.

One member: compression method 99 with the 0x9901 extra field (vendor "AE", version 2, strength 3 = AES-256,
the real method); its data is a random 16-byte salt, a 2-byte password verifier, the compressed bytes
encrypted with AES-256 in CTR mode (WinZip's counter: little-endian, starting at 1) and the first 10 bytes
of an HMAC-SHA1 over the encrypted bytes. PBKDF2-HMAC-SHA1 (1000 rounds) turns the password and the salt
into the AES key, the HMAC key and the verifier. AE-2 writes 0 as the CRC-32 (the HMAC stands in for it).
AES is pycryptodome's (the counter blocks are built in _Stream), the rest is hashlib/hmac.
Format, scopes and measurements: docs/encryption.md.
"""

from __future__ import annotations

import array
import hashlib
import hmac
import os
import struct
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from Cryptodome.Cipher import AES
from Cryptodome.Util.strxor import strxor

from wizard.core.encryption.password import PasswordMissing, candidate_passwords
from wizard.core.errors import UserError
from wizard.i18n import _

AES_METHOD = 99
EXTRA_ID = 0x9901
VENDOR_VERSION = 2  # AE-2: no CRC-32 in the headers
STRENGTH_256 = 3
SALT_SIZE = 16
VERIFIER_SIZE = 2
MAC_SIZE = 10
HEADER_SIZE = SALT_SIZE + VERIFIER_SIZE  # before the encrypted bytes
OVERHEAD = HEADER_SIZE + MAC_SIZE  # what encryption adds to a member's compressed size
KEY_SIZE = 32
ITERATIONS = 1000
BLOCK = 16


class WrongPassword(UserError):
    """None of the passwords tried opens the archive (the 2-byte verifier differs for each)."""

    exit_code = 2

    def __init__(self, archive_name: str):
        super().__init__(_("La contraseña no es correcta para {name}").format(name=archive_name))


class AuthenticationFailed(zipfile.BadZipFile):
    """A member's HMAC does not match its encrypted bytes: they changed after they were written."""


def extra_field(method: int) -> bytes:
    """The 0x9901 extra field of an AE-2, AES-256 member whose data is compressed with ``method``."""
    return struct.pack("<HHH2sBH", EXTRA_ID, 7, VENDOR_VERSION, b"AE", STRENGTH_256, method)


def parse_extra(extra: bytes) -> tuple[int, int, int] | None:
    """(vendor version, strength, real method) from a member's extra fields, None without a 0x9901 one."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, pos)
        if kind == EXTRA_ID and size >= 7 and pos + 4 + size <= len(extra):
            version, vendor, strength, method = struct.unpack_from("<H2sBH", extra, pos + 4)
            if vendor == b"AE":
                return version, strength, method
        pos += 4 + size
    return None


def derive(password: str, salt: bytes) -> tuple[bytes, bytes, bytes]:
    """(AES key, HMAC key, verifier) for ``password`` (UTF-8, as 7-Zip and WinZip take it) and ``salt``."""
    material = hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"), salt, ITERATIONS, 2 * KEY_SIZE + VERIFIER_SIZE)
    return material[:KEY_SIZE], material[KEY_SIZE:2 * KEY_SIZE], material[2 * KEY_SIZE:]


class _Stream:
    """AES-CTR over one member's bytes, by position (so a write elsewhere, the early-compression placeholder
    filled in later, is as easy as one in order, and pieces can be done on several threads). WinZip's
    counter is little-endian, which pycryptodome's CTR mode does slowly block by block: the counter blocks
    are built here (a 1 MiB table of the low 16 bits, the rest XORed in) and encrypted with AES in ECB mode
    in one call, then XORed with the data: the same CTR mode, four times faster (docs/encryption.md)."""

    _low: bytes | None = None  # counter blocks 0..65535: little-endian 16-bit value, then zeros

    def __init__(self, key: bytes):
        self._key = key

    @classmethod
    def _counters(cls, first: int, count: int) -> bytes:
        """Counter blocks ``first`` .. ``first + count - 1``, little-endian, 16 bytes each."""
        if cls._low is None:
            values = array.array("H", range(1 << 16))
            if sys.byteorder == "big":
                values.byteswap()
            low = bytearray(BLOCK << 16)
            memoryview(low).cast("H")[::BLOCK // 2] = memoryview(values)
            cls._low = bytes(low)
        pieces = []
        while count:
            high, low = divmod(first, 1 << 16)
            n = min(count, (1 << 16) - low)
            pieces.append(strxor(cls._low[BLOCK * low:BLOCK * (low + n)], (high << 16).to_bytes(BLOCK, "little") * n))
            first += n
            count -= n
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def apply(self, offset: int, data: bytes) -> bytes:
        """``data`` encrypted (or decrypted: the same thing in CTR) as the bytes at ``offset``."""
        if not data:
            return b""
        skip = offset % BLOCK
        blocks = (skip + len(data) + BLOCK - 1) // BLOCK
        keystream = AES.new(self._key, AES.MODE_ECB).encrypt(self._counters(1 + offset // BLOCK, blocks))
        if skip or len(keystream) != len(data):
            keystream = keystream[skip:skip + len(data)]
        return strxor(data, keystream)


class MemberEncryption:
    """Encrypting one member: ``header`` (salt and verifier) goes first, then ``encrypt_at`` each piece of
    compressed data (by its offset in the member's data); ``mac`` is fed the encrypted bytes in order and
    ``tag()`` goes last."""

    def __init__(self, password: str, salt: bytes | None = None):
        salt = os.urandom(SALT_SIZE) if salt is None else salt
        key, mac_key, verifier = derive(password, salt)
        self.header = salt + verifier
        self.mac = hmac.new(mac_key, digestmod=hashlib.sha1)
        self._stream = _Stream(key)

    def encrypt_at(self, offset: int, data: bytes) -> bytes:
        return self._stream.apply(offset, data)

    def tag(self) -> bytes:
        return self.mac.digest()[:MAC_SIZE]

    def reader(self) -> MemberDecryption:
        """A decryption of this member by the same keys (to read back what was just written)."""
        return MemberDecryption(self._stream._key, None)


class MemberDecryption:
    """Decrypting one member's bytes in order (``decrypt``), checking its HMAC at the end (``check``)."""

    def __init__(self, key: bytes, mac_key: bytes | None):
        self._stream = _Stream(key)
        self._offset = 0
        self.mac = hmac.new(mac_key, digestmod=hashlib.sha1) if mac_key is not None else None

    def decrypt(self, data: bytes) -> bytes:
        if self.mac is not None:
            self.mac.update(data)
        out = self._stream.apply(self._offset, data)
        self._offset += len(data)
        return out

    def decrypt_at(self, offset: int, data: bytes) -> bytes:
        return self._stream.apply(offset, data)

    def check(self, tag: bytes) -> None:
        assert self.mac is not None
        if not hmac.compare_digest(self.mac.digest()[:MAC_SIZE], tag):
            raise AuthenticationFailed("authentication code does not match")


class Unlocker:
    """The passwords to try on one archive's encrypted members: the ones given, or else every password this
    computer knows (``RESPALDOS_PASSWORD``, the keyring's current and older ones). The one that opened a
    member is tried first on the next. None given and none known: PasswordMissing; none opens: WrongPassword."""

    def __init__(self, archive: Path | str, passwords: Sequence[str] | None = None):
        self.archive = Path(archive)
        self._passwords = list(passwords) if passwords is not None else None

    def _candidates(self) -> list[str]:
        if self._passwords is None:
            self._passwords = candidate_passwords()
        return self._passwords

    def open(self, header: bytes) -> MemberDecryption:
        """The decryption of a member whose data starts with ``header`` (salt and verifier)."""
        candidates = self._candidates()
        if not candidates:
            raise PasswordMissing(self.archive.name)
        salt, verifier = header[:SALT_SIZE], header[SALT_SIZE:HEADER_SIZE]
        for index, password in enumerate(candidates):
            key, mac_key, check = derive(password, salt)
            if hmac.compare_digest(check, verifier):
                if index:
                    candidates.insert(0, candidates.pop(index))
                return MemberDecryption(key, mac_key)
        raise WrongPassword(self.archive.name)
