"""Sealed files: the image files of an encrypted gallery (thumbnails, and the video importer's crops,
masks and backgrounds), AES-256-GCM with a key from the workstation passphrase (scrypt over the
gallery's salt, which each sealed file carries in its header).

A reader needs only the path and the passphrase: :func:`read_image_bytes` returns the plain bytes of
a sealed or an ordinary image file, :func:`open_image` a PIL image of either, and :func:`plain_sha256`
the hash of the plain content (a sealed crop keeps the SHA-256 of its PNG), so every part of the
program reads gallery images the same way.
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


def open_image(path: str | Path):
    """The image file at ``path`` as a PIL image (unsealed first when sealed); raises OSError when it is
    not an image and KeyMissingError when it is sealed and the passphrase is missing or wrong."""
    import io

    from PIL import Image

    with open(path, "rb") as f:
        sealed = f.read(len(MAGIC)) == MAGIC
    if not sealed:  # an ordinary file: opened lazily, as PIL does
        return Image.open(path)
    return Image.open(io.BytesIO(unseal(Path(path).read_bytes())))


def plain_sha256(path: str | Path) -> str:
    """SHA-256 of a file's plain content: of the unsealed bytes when the file is sealed (a video crop of
    an encrypted gallery is identified by the hash of its PNG, taken before it was sealed), else of the
    file as it is. Raises OSError, and KeyMissingError for a sealed file that does not open."""
    import hashlib

    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(len(MAGIC))
    if head == MAGIC:
        return hashlib.sha256(unseal(path.read_bytes())).hexdigest()
    from ..hashing import sha256_file

    return sha256_file(path)


def write_sealed(path: Path, data: bytes, salt: bytes | None) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600: sealed with the gallery's key when ``salt`` is
    given (an encrypted gallery), as it is otherwise."""
    write_private(path, seal(data, salt) if salt else data)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
