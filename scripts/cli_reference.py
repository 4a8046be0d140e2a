#!/usr/bin/env python3
"""Write docs/cli.md, the command-line reference, from the parser itself (every command's --help).

    python scripts/cli_reference.py            # rewrite docs/cli.md
    python scripts/cli_reference.py --check    # exit 1 if docs/cli.md is out of date

tests/test_docs.py checks that every command of the parser has its section in docs/cli.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "cli.md"

INTRO = """# Command-line reference

Every command of `interreid`, with the text its `--help` prints. This page is generated from the
program's own parser (`python scripts/cli_reference.py`), so it says exactly what the installed
version accepts. For what the commands are for, start with the [README](../README.md) and the
[architecture](architecture.md).

Conventions shared by all commands:

- A mistake in what you typed (a missing folder, a wrong option, a file that is not a case) ends
  the command with one sentence on stderr saying what is wrong and what to do, and exit status 2.
  Nothing already saved is lost.
- `case verify` exits 1 when anything in the case file was altered or is missing.
- Ctrl-C exits 130 and keeps everything saved so far.
- Commands that produce results accept `--json` for machine-readable output.
- Per-user data (installed model packs, the demo gallery, recent cases) lives in
  `$XDG_DATA_HOME/interreid` (usually `~/.local/share/interreid`); `INTERREID_DATA` moves it.
- Nothing reaches the network unless you name an endpoint (`--answerer llm:URL`).
"""


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser) for the top level and every sub-command, depth first, in parser order."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, path + (name,))


def render() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps help text to the terminal width
    sys.path.insert(0, str(ROOT))
    from interreid.engine.cli.main import build_parser

    parts = [INTRO]
    for path, parser in commands(build_parser()):
        title = " ".join(("interreid",) + path)
        parts.append(f"\n## {title}\n\n```\n{parser.format_help().rstrip()}\n```\n")
    return "".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print("docs/cli.md is out of date: run python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
