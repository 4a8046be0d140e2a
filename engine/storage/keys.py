"""Keys of this workstation: the passphrase that encrypts case files at rest, and the Ed25519 key that
signs every audit row (docs/threat-model.md says where each comes from and what each protects).

* Workstation folder: ``INTERREID_WORKSTATION`` or ``<data dir>/workstation`` (mode 0700). It holds
  ``signing-key.json`` (the signing key; wrapped with the passphrase when one was available when it
  was made) and ``anchors.jsonl`` (the anchor journal, see :mod:`engine.casefile.anchors`).
* Passphrase, in this order: one given to :func:`set_passphrase` (the desktop's dialog), the file
  named by ``INTERREID_KEY_FILE`` (its first line), or a prompt when standard input is a terminal.
  Never a prompt otherwise: :class:`KeyMissingError` says what to do in one sentence.
* Key derivation: scrypt (n=2**15, r=8, p=1) over the passphrase and the file's own 16-byte salt.
  ``INTERREID_KDF=fast`` (tests only) uses n=2**10.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path

from ..errors import UserError

ENV_WORKSTATION = "INTERREID_WORKSTATION"
ENV_KEY_FILE = "INTERREID_KEY_FILE"
ENV_KDF = "INTERREID_KDF"
SIGNING_KEY_FILE = "signing-key.json"

_passphrase: str | None = None
_may_prompt = True


class KeyMissingError(UserError):
    """The passphrase a file needs is not available (or is wrong)."""


def workstation_dir() -> Path:
    override = os.environ.get(ENV_WORKSTATION)
    if override:
        path = Path(override)
    else:
        from ..paths import data_dir

        path = data_dir() / "workstation"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def set_passphrase(value: str | None) -> None:
    """Remember the passphrase for this process (the desktop asks once per session)."""
    global _passphrase
    _passphrase = value


def set_prompting(allowed: bool) -> None:
    """The desktop app asks in its own dialog: it turns terminal prompts off for the whole process."""
    global _may_prompt
    _may_prompt = allowed


def passphrase_available() -> bool:
    """True when a passphrase can be had without asking anyone."""
    return _passphrase is not None or bool(os.environ.get(ENV_KEY_FILE))


def _from_key_file() -> str | None:
    name = os.environ.get(ENV_KEY_FILE)
    if not name:
        return None
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise KeyMissingError(f"The key file named by {ENV_KEY_FILE} ({name}) cannot be read; fix the variable "
                              "or the file.") from None
    value = text.splitlines()[0] if text.strip() else ""
    if not value:
        raise KeyMissingError(f"The key file named by {ENV_KEY_FILE} ({name}) is empty; write the passphrase "
                              "on its first line.")
    return value


def get_passphrase(what: str = "file", path: str | Path | None = None, confirm: bool = False,
                   required: bool = True) -> str | None:
    """The workstation passphrase (see the module's docstring for where it comes from)."""
    if _passphrase is not None:
        return _passphrase
    value = _from_key_file()
    if value is not None:
        return value
    if _may_prompt and sys.stdin is not None and sys.stdin.isatty():
        import getpass

        where = f" {path}" if path else ""
        value = getpass.getpass(f"Passphrase for {what}{where}: ")
        if confirm:
            if getpass.getpass("Repeat the passphrase: ") != value:
                raise KeyMissingError("The two passphrases differ; nothing was written. Try again.")
        if not value:
            raise KeyMissingError("An empty passphrase cannot protect a file; nothing was written. Try again.")
        set_passphrase(value)
        return value
    if not required:
        return None
    where = f" {path}" if path else ""
    raise KeyMissingError(f"The {what}{where} needs the workstation passphrase and none is available: set "
                          f"{ENV_KEY_FILE} to a file holding it (or run in a terminal to be asked).")


def _scrypt_n() -> int:
    return 2 ** 10 if os.environ.get(ENV_KDF) == "fast" else 2 ** 15


@functools.lru_cache(maxsize=64)
def _derive(passphrase: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)


def derive_key(passphrase: str, salt: bytes) -> bytes:
    """32-byte key from the passphrase and a file's salt (scrypt; cached per process)."""
    return _derive(passphrase, bytes(salt), _scrypt_n())


# -- the signing key ---------------------------------------------------------------------------------
def _wrap(raw: bytes, passphrase: str) -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    ct = AESGCM(derive_key(passphrase, salt)).encrypt(nonce, raw, b"interreid-signing-key")
    return {"kdf": "scrypt", "n": _scrypt_n(), "salt": salt.hex(), "nonce": nonce.hex(), "ciphertext": ct.hex()}


def _unwrap(box: dict, passphrase: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = _derive(passphrase, bytes.fromhex(box["salt"]), int(box["n"]))
    try:
        return AESGCM(key).decrypt(bytes.fromhex(box["nonce"]), bytes.fromhex(box["ciphertext"]),
                                   b"interreid-signing-key")
    except InvalidTag:
        raise KeyMissingError("The passphrase does not unlock this workstation's signing key; give the "
                              "workstation passphrase.") from None


def public_key_hex(private) -> str:
    from cryptography.hazmat.primitives import serialization

    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def key_fingerprint(public_hex: str) -> str:
    """A short, readable identity of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


_signing_cache: dict[str, object] = {}


def signing_key():
    """This workstation's Ed25519 private key, made on first use (0600; wrapped with the passphrase
    when one is available without asking)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = workstation_dir() / SIGNING_KEY_FILE
    cached = _signing_cache.get(str(path))
    if cached is not None:
        return cached
    if path.is_file():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise KeyMissingError(f"This workstation's signing key {path} is unreadable; restore it from its "
                                  "backup (cases it signed still verify with the key recorded in them).") from None
        if "wrapped" in record:
            raw = _unwrap(record["wrapped"], get_passphrase("this workstation's signing key"))
        else:
            raw = bytes.fromhex(record["private"])
        key = Ed25519PrivateKey.from_private_bytes(raw)
    else:
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        secret = get_passphrase(required=False) if passphrase_available() else None
        record = {"version": 1, "algorithm": "Ed25519", "public": public_key_hex(key)}
        record.update({"wrapped": _wrap(raw, secret)} if secret else {"private": raw.hex()})
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            tmp.unlink(missing_ok=True)
            return signing_key()
        tmp.unlink(missing_ok=True)
    _signing_cache[str(path)] = key
    return key


def signing_key_locked() -> bool:
    """True when the signing key is wrapped with the passphrase and not unlocked in this process."""
    path = workstation_dir() / SIGNING_KEY_FILE
    if str(path) in _signing_cache:
        return False
    try:
        return "wrapped" in json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def workstation_public_key() -> str | None:
    """This workstation's public key (hex), without unlocking the private key; None if none yet."""
    path = workstation_dir() / SIGNING_KEY_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))["public"]
    except (OSError, ValueError, KeyError):
        return None


def rewrap_signing_key(new_passphrase: str) -> bool:
    """Wrap the signing key with a new passphrase (``case rekey``); False when there is no key yet."""
    path = workstation_dir() / SIGNING_KEY_FILE
    if not path.is_file():
        return False
    from cryptography.hazmat.primitives import serialization

    key = signing_key()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    record = {"version": 1, "algorithm": "Ed25519", "public": public_key_hex(key),
              "wrapped": _wrap(raw, new_passphrase)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.replace(tmp, path)
    return True


def sign(message: bytes) -> str:
    return signing_key().sign(message).hex()


def verify_signature(public_hex: str, message: bytes, signature_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), message)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False
