"""A CLI interview (`interreid interview`) with lines typed at its prompt, as an investigator types them."""

from __future__ import annotations

import io


def typed_interview(gallery, monkeypatch, capsys, description: str, *typed: str) -> str:
    """What `interview --gallery GALLERY --description DESCRIPTION` prints when ``typed`` lines (then ':quit')
    are typed; asserts that it ends without an error."""
    from interreid.engine.cli.main import main

    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in (*typed, ":quit"))))
    rc = main(["interview", "--gallery", str(gallery), "--description", description])
    out = capsys.readouterr().out
    assert rc == 0
    return out
