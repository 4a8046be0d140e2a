"""The documentation ships with the project: the CLI reference covers the parser, links resolve,
and nothing points at notes outside the repository."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from cli_reference import commands  # noqa: E402

from interreid.engine.cli.main import build_parser  # noqa: E402

REGENERATE = "run `python scripts/cli_reference.py` to regenerate docs/cli.md"
# Topics written on parallel branches; their links are checked once the files exist.


def _cli_sections() -> dict[str, str]:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (interreid[^\n]*)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_command_has_its_section_in_the_cli_reference():
    sections = _cli_sections()
    wanted = [" ".join(("interreid",) + path) for path, _ in commands(build_parser())]
    assert len(wanted) > 20  # the walk reaches the sub-commands, not only the groups
    missing = [name for name in wanted if name not in sections]
    assert not missing, f"docs/cli.md lacks {missing}; {REGENERATE}"
    extra = [name for name in sections if name not in wanted]
    assert not extra, f"docs/cli.md documents commands the program no longer has: {extra}; {REGENERATE}"


def test_every_option_appears_in_its_commands_section():
    sections = _cli_sections()
    stale = []
    for path, parser in commands(build_parser()):
        body = sections.get(" ".join(("interreid",) + path), "")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
                continue  # hidden options are not documented on purpose
            for flag in action.option_strings:
                if flag.startswith("--") and flag not in body:
                    stale.append(f"{' '.join(path) or '(top)'} {flag}")
    assert not stale, f"options missing from docs/cli.md: {stale}; {REGENERATE}"


def _doc_files() -> list[Path]:
    return [ROOT / "README.md", ROOT / "packaging" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_relative_links_in_the_docs_resolve():
    broken = []
    for doc in _doc_files():
        if not doc.exists():
            continue
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            path = (doc.parent / target).resolve()
            if not path.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_section_links_point_at_headings():
    broken = []
    for doc in _doc_files():
        if not doc.exists():
            continue
        for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            linked = (doc.parent / target) if target else doc
            if not linked.exists():
                continue
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), flags=re.MULTILINE)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            if anchor not in slugs:
                broken.append(f"{doc.relative_to(ROOT)} -> {target}#{anchor}")
    assert not broken, broken


@pytest.mark.parametrize("folder", ["engine", "desktop", "resources", "docs", "packaging", "scripts"])
def test_nothing_points_at_notes_outside_the_repository(folder):
    offenders = []
    for path in (ROOT / folder).rglob("*"):
        if path.suffix not in {".py", ".md", ".yaml", ".json", ".sh", ".spec", ".txt", ".qss"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if re.search(r"REFERENCE\.md|DESIGN\.md|shared/docs|\.\./shared", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "shared/docs" not in readme and "REFERENCE.md" not in readme


def test_docstring_references_name_existing_docs():
    """Docstrings cite docs/<topic>.md; each cited topic is a file in docs/ (or a parallel topic)."""
    cited = set()
    for path in list((ROOT / "engine").rglob("*.py")) + list((ROOT / "resources").rglob("*.*")):
        if path.suffix in {".py", ".yaml", ".json"}:
            cited |= set(re.findall(r"docs/([\w-]+\.md)", path.read_text(encoding="utf-8")))
    assert cited, "no docstring cites the docs"
    missing = sorted(c for c in cited if not (ROOT / "docs" / c).exists())
    assert not missing, missing
