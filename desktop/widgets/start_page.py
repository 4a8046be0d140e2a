"""The first screen: recent cases, New case, Open case, Import gallery."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget


class StartPage(QWidget):
    new_case = Signal()
    open_case = Signal()
    import_gallery = Signal()
    open_recent = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        col = QVBoxLayout()
        col.setSpacing(12)
        outer.addLayout(col, 3)
        outer.addStretch(1)
        col.addStretch(1)
        title = QLabel("interreid")
        title.setObjectName("appTitle")
        col.addWidget(title)
        sub = QLabel("Interview a witness, search the CCTV gallery, keep a tamper-evident case file.")
        sub.setObjectName("muted")
        sub.setWordWrap(True)
        col.addWidget(sub)
        buttons = QHBoxLayout()
        for text, signal, primary in (("New case…", self.new_case, True), ("Open case…", self.open_case, False),
                                      ("Import gallery…", self.import_gallery, False)):
            b = QPushButton(text)
            if primary:
                b.setObjectName("primary")
            b.clicked.connect(signal)
            buttons.addWidget(b)
        buttons.addStretch(1)
        col.addLayout(buttons)
        recent_title = QLabel("Recent cases")
        recent_title.setObjectName("sectionTitle")
        col.addWidget(recent_title)
        self.recent = QListWidget()
        self.recent.setMinimumHeight(180)
        self.recent.itemActivated.connect(lambda item: self.open_recent.emit(item.data(Qt.ItemDataRole.UserRole)))
        col.addWidget(self.recent, 1)
        hint = QLabel("Drop a case file here to open it, or folders of images or video (or video files) to start a new gallery.")
        hint.setObjectName("muted")
        col.addWidget(hint)
        col.addStretch(1)

    def set_recent(self, paths: list[str], titles: dict[str, str] | None = None) -> None:
        """Recent cases by their titles (the file name only when no title is known), folder beside."""
        self.recent.clear()
        titles = titles or {}
        for p in paths:
            path = Path(p)
            item = QListWidgetItem(f"{titles.get(str(path)) or path.stem}    —    {path.name} in {path.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(str(path))
            if not path.exists():
                item.setForeground(Qt.GlobalColor.gray)
                item.setText(item.text() + "   (missing)")
            self.recent.addItem(item)
        if not paths:
            item = QListWidgetItem("No recent cases yet.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(item)
