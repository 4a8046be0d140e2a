"""Sealed files: thumbnails and crops of an encrypted gallery, AES-256-GCM with a key from the
workstation passphrase (scrypt over the gallery's salt, which each sealed file carries in its header).

A reader needs only the path and the passphrase: :func:`read_image_bytes` returns the plain bytes of
a sealed or an ordinary image file, so every part of the program reads thumbnails the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

MAGIC = b"IRSEAL01"
_HEADER = len(MAGIC) + 16 + 12  # magic, salt, nonce


def seal(data: bytes, salt: bytes, passphrase: str | None = None) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from .keys import derive_key, get_passphrase

    key = derive_key(passphrase if passphrase is not None else get_passphrase("the gallery"), salt)
    nonce = os.urandom(12)
    return MAGIC + salt + nonce + AESGCM(key).encrypt(nonce, data, MAGIC + salt)


def is_sealed(data: bytes) -> bool:
    return data[:len(MAGIC)] == MAGIC


def unseal(data: bytes, passphrase: str | None = None) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from .keys import KeyMissingError, derive_key, get_passphrase

    salt, nonce = data[len(MAGIC):len(MAGIC) + 16], data[len(MAGIC) + 16:_HEADER]
    key = derive_key(passphrase if passphrase is not None else get_passphrase("the gallery's images"), salt)
    try:
        return AESGCM(key).decrypt(nonce, data[_HEADER:], MAGIC + salt)
    except InvalidTag:
        raise KeyMissingError("The passphrase does not open this gallery's images (or a thumbnail was altered); "
                              "give the passphrase the gallery was imported with.") from None


def read_image_bytes(path: str | Path) -> bytes:
    """The plain bytes of an image file, sealed or not."""
    data = Path(path).read_bytes()
    return unseal(data) if is_sealed(data) else data


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
