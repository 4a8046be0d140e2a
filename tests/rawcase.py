"""Open a case file's database directly, as someone with sqlite3 and the passphrase (but not the
workstation's signing key) would: the strongest tamperer the threat model names."""

from __future__ import annotations


def raw_connect(path):
    from interreid.engine.storage import open_database

    return open_database(path, wal=False)
