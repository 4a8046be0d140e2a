"""Help: the guide to an interview, the keyboard shortcuts and what the numbers mean.

The text is the desktop guide shipped in ``resources/help/desktop-guide.md`` (the same file as
``docs/desktop-guide.md``); the shortcut list is built from the window's own actions, so it is
always the keys that really work.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
)

NUMBERS_HEADING = "## What the numbers mean"
TOPICS = ("guide", "shortcuts", "numbers")


def guide_text() -> str:
    from interreid.engine.paths import resources_dir

    path = resources_dir() / "help" / "desktop-guide.md"
    if not path.is_file():
        return "# Guide\n\nThe guide is missing from this installation; reinstall interreid to restore it."
    return path.read_text(encoding="utf-8")


def split_guide(text: str) -> tuple[str, str]:
    """(the guide without the numbers section, the numbers section)."""
    start = text.find(NUMBERS_HEADING)
    if start < 0:
        return text, "The explanation of the numbers is missing from this installation."
    end = text.find("\n## ", start + len(NUMBERS_HEADING))
    numbers = text[start:] if end < 0 else text[start:end]
    return text[:start] + ("" if end < 0 else text[end + 1:]), numbers


class HelpDialog(QDialog):
    def __init__(self, shortcuts: list[tuple[str, str]], parent=None):
        super().__init__(parent)
        self.setWindowTitle("interreid help")
        self.resize(760, 680)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        guide, numbers = split_guide(guide_text())
        self.pages = {}
        for topic, title in zip(TOPICS, ("Guide to an interview", "Keyboard shortcuts", "What the numbers mean")):
            browser = QTextBrowser()
            browser.setOpenExternalLinks(False)
            self.pages[topic] = browser
            self.tabs.addTab(browser, title)
        self.pages["guide"].setMarkdown(guide)
        self.pages["numbers"].setMarkdown(numbers)
        rows = "".join(f"<tr><td style='padding:3px 12px 3px 0'><b>{html.escape(k)}</b></td>"
                       f"<td style='padding:3px 0'>{html.escape(v)}</td></tr>" for k, v in shortcuts)
        self.pages["shortcuts"].setHtml(f"<h2>Keyboard shortcuts</h2><table>{rows}</table>")
        layout.addWidget(self.tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def show_topic(self, topic: str) -> None:
        self.tabs.setCurrentIndex(TOPICS.index(topic) if topic in TOPICS else 0)
