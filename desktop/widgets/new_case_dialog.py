"""New case: title, investigator, where the case file goes, its gallery (existing or imported, with
the lite engine or an installed model pack), and how candidates and questions are chosen."""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton, QRadioButton, QVBoxLayout,
                               QWidget)

TOWER_ROLE = Qt.ItemDataRole.UserRole + 1  # "Search with" items: the pack's image tower ("int8"; unset: fp32)
SELECTORS = [("kmeans", "Varied: four that differ from each other, among the best-ranked (recommended)"),
             ("top", "Best: the four best-ranked"),
             ("uniform", "Spread: four spread evenly over the best-ranked"),
             ("learned", "Trained: chosen by the model pack's trained selector")]
QUESTIONERS = [("infogain", "Ask what best separates the candidates (recommended)"),
               ("template", "Ask about clothing in a fixed order"),
               ("llava", "Questions written by the LLaVA model (model pack; loads in the background)")]


@dataclass
class NewCaseRequest:
    title: str
    investigator: str
    case_path: Path
    gallery_folder: Path
    import_sources: list[Path] = field(default_factory=list)  # empty: use the existing gallery
    engine: str = "lite"  # the new gallery's embedder: lite, or full with ``pack``
    pack: str | None = None  # an installed pack's folder (full engine)
    #: the pack's image model the import measures images with: "int8" (faster on a CPU) when chosen; None: an
    #: existing gallery's own (an interrupted 8-bit import resumes with it), fp32 for a new gallery
    tower: str | None = None
    selector: str = "kmeans"
    questioner: str = "infogain"
    treid: str | None = None  # a second model matching the first description: "lite" or a pack folder
    treid_weight: float = 0.5


def installed_packs() -> list[tuple[str, str]]:
    """(label, folder) of every installed model pack (manifests only: nothing heavy is imported)."""
    from interreid.engine.full.pack import list_installed_packs

    out = []
    for m in list_installed_packs():
        label = f"{m.name} {m.version}"
        if m.weights == "random":
            label += " (untrained — for testing only)"
        out.append((label, str(m.folder)))
    return out


def int8_tower_packs() -> set[str]:
    """Folders of the installed model packs that hold the int8 image tower (built with --int8)."""
    from interreid.engine.full.pack import list_installed_packs

    return {str(m.folder) for m in list_installed_packs()
            if (m.components.get("retriever") or {}).get("image_int8_onnx")}


def default_case_path(title: str) -> Path:
    from interreid.engine.paths import data_dir

    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "case"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return data_dir() / "cases" / f"{slug}-{stamp}.case"


def _path_row(edit: QLineEdit, browse) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    row.addWidget(button)
    return holder


class NewCaseDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, sources: list[str] | None = None,
                 gallery: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("New case")
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.title = QLineEdit()
        self.title.setPlaceholderText("e.g. Robbery at Station Road, 1 May")
        self.investigator = QLineEdit(getpass.getuser())
        self.case_path = QLineEdit()
        self.case_path.setPlaceholderText("chosen from the title when left empty")
        form.addRow("Title", self.title)
        form.addRow("Investigator", self.investigator)
        form.addRow("Case file", _path_row(self.case_path, self._browse_case))
        layout.addLayout(form)

        layout.addWidget(QLabel("<b>Gallery</b>"))
        self.use_existing = QRadioButton("An existing gallery folder")
        self.use_new = QRadioButton("A new gallery imported from folders of images or video, or video files")
        group = QButtonGroup(self)
        group.addButton(self.use_existing)
        group.addButton(self.use_new)
        self.gallery = QLineEdit(gallery or "")
        self.gallery.setPlaceholderText("a gallery folder made by Import gallery")
        layout.addWidget(self.use_existing)
        layout.addWidget(_path_row(self.gallery, self._browse_gallery))
        layout.addWidget(self.use_new)
        self.new_gallery = QLineEdit()
        self.new_gallery.setPlaceholderText("an empty folder for the new gallery")
        new_form = QFormLayout()
        new_form.addRow("Gallery folder", _path_row(self.new_gallery, self._browse_new_gallery))
        self.sources = QListWidget()
        self.sources.setMaximumHeight(110)
        add = QPushButton("Add folder…")
        add.clicked.connect(self._add_source)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: [self.sources.takeItem(self.sources.row(i))
                                        for i in self.sources.selectedItems()])
        add_video = QPushButton("Add video files…")
        add_video.clicked.connect(self._add_videos)
        buttons_col = QVBoxLayout()
        buttons_col.addWidget(add)
        buttons_col.addWidget(add_video)
        buttons_col.addWidget(remove)
        buttons_col.addStretch(1)
        src_row = QHBoxLayout()
        src_row.addWidget(self.sources, 1)
        src_row.addLayout(buttons_col)
        holder = QWidget()
        holder.setLayout(src_row)
        new_form.addRow("Import from", holder)
        self.embed_with = QComboBox()
        self.embed_with.addItem("Lite engine: colour names (no model pack)", None)
        faster = int8_tower_packs()
        for label, folder in installed_packs():
            self.embed_with.addItem(f"Model pack {label}", folder)
            if folder in faster:  # the same pack's 8-bit image model: about 1.5-2x faster on a processor
                self.embed_with.addItem(f"Model pack {label}, 8-bit (faster without a graphics card)", folder)
                self.embed_with.setItemData(self.embed_with.count() - 1, "int8", TOWER_ROLE)
        self.embed_with.setToolTip("How the new gallery's images are measured for searching. Model packs are "
                                   "installed on this workstation by its administrator. The 8-bit choice imports "
                                   "faster on a computer without a graphics card and ranks almost the same; a "
                                   "gallery keeps the choice it was made with.")
        new_form.addRow("Search with", self.embed_with)
        layout.addLayout(new_form)

        layout.addWidget(QLabel("<b>Interview</b>"))
        interview_form = QFormLayout()
        self.selector = QComboBox()
        for key, label in SELECTORS:
            self.selector.addItem(label, key)
        self.questioner = QComboBox()
        for key, label in QUESTIONERS:
            self.questioner.addItem(label, key)
        interview_form.addRow("Candidates shown", self.selector)
        interview_form.addRow("Question suggestions", self.questioner)
        self.treid = QComboBox()
        self.treid.addItem("No (default)", None)
        self.treid.addItem("Colour names (lite engine)", "lite")
        for label, folder in installed_packs():
            self.treid.addItem(f"Model pack {label}", folder)
        self.treid.setToolTip("A second model scores how well each image matches the witness's first "
                              "description; its score is averaged with the interview's at every round.")
        self.treid_weight = QDoubleSpinBox()
        self.treid_weight.setRange(0.0, 1.0)
        self.treid_weight.setSingleStep(0.1)
        self.treid_weight.setValue(0.5)
        self.treid_weight.setToolTip("0.5 gives both the same say (the published method); 1 uses the first "
                                     "description alone.")
        interview_form.addRow("Also match the first description with", self.treid)
        interview_form.addRow("Weight of that second match", self.treid_weight)
        # the weight means nothing without a second model: greyed out until one is chosen
        self.treid.currentIndexChanged.connect(
            lambda _i: self.treid_weight.setEnabled(self.treid.currentData() is not None))
        self.treid_weight.setEnabled(False)
        layout.addLayout(interview_form)
        self.message = QLabel()
        self.message.setObjectName("errorText")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = buttons.addButton("Create case", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for combo in self.findChildren(QComboBox):  # the dialog widens to show every choice in full
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.resize(self.sizeHint().expandedTo(self.minimumSize()))  # the minimum width alone would squeeze them
        for s in sources or []:
            self.sources.addItem(str(s))
        (self.use_new if sources else self.use_existing).setChecked(True)
        if sources and not self.new_gallery.text():
            from interreid.engine.paths import data_dir

            self.new_gallery.setText(str(data_dir() / "galleries" / Path(sources[0]).name))

    def _browse_case(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Case file", str(default_case_path(self.title.text())),
                                              "Case files (*.case)")
        if path:
            self.case_path.setText(path)

    def _browse_gallery(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Gallery folder")
        if path:
            self.gallery.setText(path)
            self.use_existing.setChecked(True)

    def _browse_new_gallery(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the new gallery")
        if path:
            self.new_gallery.setText(path)
            self.use_new.setChecked(True)

    def _add_videos(self) -> None:
        from interreid.engine.video import VIDEO_EXTENSIONS

        pattern = " ".join(f"*{e}" for e in sorted(VIDEO_EXTENSIONS))
        paths, _ = QFileDialog.getOpenFileNames(self, "Video files (CCTV exports)", "",
                                                f"Video ({pattern});;All files (*)")
        for path in paths:
            self.sources.addItem(path)
        if paths:
            self.use_new.setChecked(True)

    def _add_source(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of person crops or video")
        if path:
            self.sources.addItem(path)
            self.use_new.setChecked(True)

    def request(self) -> NewCaseRequest | None:
        """The filled-in request, or None with ``message`` saying what is missing."""
        title = self.title.text().strip()
        if not title:
            self.message.setText("Give the case a title.")
            return None
        case_path = Path(self.case_path.text().strip()) if self.case_path.text().strip() else default_case_path(title)
        if self.use_existing.isChecked():
            folder = self.gallery.text().strip()
            if not folder or not (Path(folder) / "gallery.db").is_file():
                self.message.setText("Choose a gallery folder made by Import gallery, "
                                     "or import a new gallery.")
                return None
            return NewCaseRequest(title, self.investigator.text().strip(), case_path, Path(folder),
                                  selector=self.selector.currentData(), questioner=self.questioner.currentData(),
                                  treid=self.treid.currentData(), treid_weight=self.treid_weight.value())
        sources = [Path(self.sources.item(i).text()) for i in range(self.sources.count())]
        if not self.new_gallery.text().strip() or not sources:
            self.message.setText("Choose a folder for the new gallery and at least one folder or video file to import.")
            return None
        pack = self.embed_with.currentData()
        if pack is None and (self.selector.currentData() == "learned" or self.questioner.currentData() == "llava"):
            self.message.setText("The learned selector and the LLaVA questioner need a model pack; choose one under "
                                 "'Search with', or another selector and questioner.")
            return None
        return NewCaseRequest(title, self.investigator.text().strip(), case_path,
                              Path(self.new_gallery.text().strip()), sources, engine="full" if pack else "lite",
                              pack=pack, tower=self.embed_with.currentData(TOWER_ROLE) or None,
                              selector=self.selector.currentData(),
                              questioner=self.questioner.currentData(), treid=self.treid.currentData(),
                              treid_weight=self.treid_weight.value())

    def _accept(self) -> None:
        if self.request() is not None:
            self.accept()
