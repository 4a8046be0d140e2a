"""The main window: start screen and interview screen, menus, shortcuts, status bar, drops."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QProcess, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QStackedWidget,
                               QVBoxLayout, QWidget)

from .session import CaseSession
from .settings import add_recent_case, open_settings, recent_cases
from .widgets.banner import Banner
from .widgets.detail_view import DetailView
from .widgets.dialogs import mark_dialog, witness_dialog
from .widgets.import_dialog import ImportDialog
from .widgets.interview_page import InterviewPage
from .widgets.new_case_dialog import NewCaseDialog, NewCaseRequest
from .widgets.start_page import StartPage
from .workers import JobRunner

log = logging.getLogger("interreid.desktop")
MAX_BANNER_LINES = 12


class MainWindow(QMainWindow):
    def __init__(self, settings=None, detect_device: bool = True):
        super().__init__()
        self.settings = settings or open_settings()
        self.session = CaseSession(self)
        self.side = JobRunner(1, self)
        self.detail_views: list[DetailView] = []
        self.report_available: bool | None = None
        self.last_verification = None
        self.setWindowTitle("interreid")
        self.setAcceptDrops(True)
        self.resize(1440, 900)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = Banner()
        layout.addWidget(self.banner)
        self.stack = QStackedWidget()
        self.start_page = StartPage()
        self.interview_page = InterviewPage()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.interview_page)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_actions()
        self._build_status_bar()
        self._connect()
        self.start_page.set_recent(recent_cases(self.settings))
        self._restore_geometry()
        self._check_report_support()
        if detect_device:
            QTimer.singleShot(0, self._detect_device)

    # -- set-up -----------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, menu=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_action = self._action("&New case…", self.new_case, QKeySequence.StandardKey.New, file_menu)
        self.open_action = self._action("&Open case…", self.open_case_dialog, QKeySequence.StandardKey.Open,
                                        file_menu)
        self.import_action = self._action("&Import gallery…", self.import_gallery_dialog, None, file_menu)
        file_menu.addSeparator()
        self.save_action = self._action("&Save a copy of the case…", self.save_copy, QKeySequence.StandardKey.Save,
                                        file_menu, "Everything is saved as you work; this writes a copy "
                                                   "(e.g. for an evidence drive).")
        self.report_action = self._action("&Export report…", self.export_report, None, file_menu)
        self.verify_action = self._action("&Verify case", lambda: self.session.verify(), None, file_menu,
                                          "Re-check the audit chain and re-hash every gallery image")
        self.close_action = self._action("&Close case", self.close_case, QKeySequence.StandardKey.Close, file_menu)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, file_menu)
        iv = bar.addMenu("&Interview")
        q = self.interview_page.questions
        self.ask_action = self._action("&Ask", q._ask, None, iv, "Record the answer (Enter in the answer box)")
        self.skip_action = self._action("&Skip question", q.skip_requested.emit, None, iv)
        self.dont_know_action = self._action("Witness &doesn't know", q.dont_know_button.click, None, iv)
        self.undo_action = self._action("&Undo last round", self.undo_round, QKeySequence.StandardKey.Undo, iv)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        iv.addSeparator()
        self.filter_action = self._action("&Filter the ranking", self.interview_page.grid.focus_filter,
                                          QKeySequence.StandardKey.Find, iv)
        for a in (self.save_action, self.report_action, self.verify_action, self.close_action, self.ask_action,
                  self.skip_action, self.dont_know_action, self.undo_action, self.filter_action):
            a.setEnabled(False)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.hide()
        self.busy_label = QLabel()
        self.engine_label = QLabel("no case open")
        self.device_label = QLabel("device: …")
        self.gallery_label = QLabel()
        for w in (self.busy_label, self.busy_bar):
            sb.addWidget(w)
        for w in (self.engine_label, self.device_label, self.gallery_label):
            w.setObjectName("statusItem")
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        s, page = self.session, self.interview_page
        sp = self.start_page
        sp.new_case.connect(self.new_case)
        sp.open_case.connect(self.open_case_dialog)
        sp.import_gallery.connect(self.import_gallery_dialog)
        sp.open_recent.connect(self.open_case)
        s.opened.connect(self._on_opened)
        s.state_changed.connect(self._on_state)
        s.marks_changed.connect(page.set_marks)
        s.histories_changed.connect(page.set_histories)
        s.witness_views_changed.connect(page.set_witness_views)
        s.verified.connect(self._on_verified)
        s.busy_changed.connect(self._on_busy)
        s.error.connect(lambda m: self.show_message(m, "error"))
        s.info.connect(lambda m: self.statusBar().showMessage(m, 8000))
        s.questioner_ready.connect(lambda m: self.statusBar().showMessage(m, 8000))
        s.background.connect(lambda m: self.statusBar().showMessage(m, 15000))
        q = page.questions
        q.start_requested.connect(s.start)
        q.ask_requested.connect(s.ask)
        q.dont_know_requested.connect(s.dont_know)
        q.skip_requested.connect(s.skip)
        q.undo_requested.connect(self.undo_round)
        page.understood.correct_requested.connect(s.correct)
        for source in (page.candidates, page.grid):
            source.open_row.connect(self.show_details)
            source.mark_requested.connect(self.mark_row)
            source.witness_requested.connect(self.show_to_witness)

    # -- messages ---------------------------------------------------------------------------
    def show_message(self, text: str, level: str = "info") -> None:
        if level == "error":
            log.warning("shown to user: %s", text)
        self.banner.show_message(text, level)

    def _on_busy(self, busy: bool, label: str) -> None:
        self.busy_bar.setVisible(busy)
        self.busy_label.setText(label if busy else "")
        self.interview_page.questions.set_busy(busy)
        self.interview_page.understood.set_enabled(not busy)
        self._update_actions()

    def _update_actions(self) -> None:
        open_ = self.session.is_open
        started = open_ and self.session.state is not None
        idle = not self.session.busy
        for a in (self.save_action, self.verify_action, self.close_action, self.filter_action):
            a.setEnabled(open_)
        self.report_action.setEnabled(open_ and bool(self.report_available))
        for a in (self.ask_action, self.skip_action, self.dont_know_action):
            a.setEnabled(started and idle)
        self.undo_action.setEnabled(started and idle and bool(self.session.state.dialogue))

    # -- cases ------------------------------------------------------------------------------
    def open_case(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            self.show_message(f"Case file {path} does not exist; check the path or choose another case.", "error")
            return
        self.banner.hide()
        self.last_verification = None
        for view in self.detail_views:
            view.close()
        self.detail_views.clear()
        self.session.open(path)

    def open_case_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open case", self._last_dir(), "Case files (*.case);;All files (*)")
        if path:
            self.open_case(path)

    def close_case(self) -> None:
        self.session.close()
        self.stack.setCurrentWidget(self.start_page)
        self.start_page.set_recent(recent_cases(self.settings))
        self.engine_label.setText("no case open")
        self.gallery_label.setText("")
        self.setWindowTitle("interreid")
        self._update_actions()

    def _on_opened(self, opened) -> None:
        add_recent_case(self.settings, opened.path)
        self.settings.setValue("last_dir", str(opened.path.parent))
        self.interview_page.show_case(opened)
        self.stack.setCurrentWidget(self.interview_page)
        self.setWindowTitle(f"{opened.title} — interreid")
        self.engine_label.setText(opened.engine_text)
        self.gallery_label.setText(f"gallery: {opened.gallery_size:,} images")
        self.gallery_label.setToolTip(str(opened.gallery_folder))
        if opened.notes:
            self.show_message(" ".join(opened.notes), "info")
        if opened.state is None:
            self.interview_page.questions.description.setFocus()
        self._update_actions()

    def _on_state(self, state) -> None:
        if self.banner.level == "error":
            self.banner.hide()  # the last step worked: an earlier error no longer applies
        self.interview_page.show_state(state)
        self._update_actions()

    def _on_verified(self, verification) -> None:
        self.last_verification = verification
        if verification.ok:
            self.statusBar().showMessage(f"Case verified: audit chain intact, {verification.images_checked} "
                                         "gallery images unchanged.", 8000)
            return
        lines = verification.lines()
        if len(lines) > MAX_BANNER_LINES:
            lines = lines[:MAX_BANNER_LINES] + [f"  … and {len(lines) - MAX_BANNER_LINES} more lines "
                                                "(File → Verify case, or 'interreid case verify')"]
        head = ("<b>This case's evidence has changed since it was recorded.</b> "
                if verification.altered_images or verification.missing_images else
                "<b>This case file has been altered outside interreid.</b> ")
        import html

        body = "<br>".join(html.escape(line) for line in lines)
        self.show_message(head + "Rankings may no longer match the images on disk.<br>" + body, "warning")

    def new_case(self, sources: list[str] | None = None) -> None:
        dialog = NewCaseDialog(self, sources=sources or None)
        if dialog.exec() != NewCaseDialog.DialogCode.Accepted:
            return
        request = dialog.request()
        if request is None:
            return
        if request.import_sources:
            importer = self._run_import(request.gallery_folder, request.import_sources, request.engine, request.pack)
            report = importer.report
            if report is None or report.cancelled:
                self.show_message("The import did not finish, so no case was created; import again to resume.",
                                  "warning")
                return
        self._create_case(request)

    def _create_case(self, request: NewCaseRequest) -> None:
        def work(_job):
            from engine.casefile import CaseFile
            from engine.engines import build_engine
            from engine.gallery.store import Gallery

            request.case_path.parent.mkdir(parents=True, exist_ok=True)
            with Gallery.open(request.gallery_folder) as gallery:
                engine = build_engine(gallery, selector=request.selector, questioner=request.questioner,
                                      load_questioner=False)  # checks the choice; the case loads it
                CaseFile.create(request.case_path, request.title, request.investigator, gallery,
                                engine.identity()).close()
            return request.case_path

        self.side.start(work, self.open_case, lambda m, _e: self.show_message(m, "error"), name="new case")

    def import_gallery_dialog(self, sources: list[str] | None = None) -> None:
        """Import folders into a gallery chosen here (a new or an existing one)."""
        if not sources:
            folder = QFileDialog.getExistingDirectory(self, "Folder of person crops to import", self._last_dir())
            if not folder:
                return
            sources = [folder]
        target = QFileDialog.getExistingDirectory(self, "Gallery folder (new and empty, or an existing gallery)",
                                                  self._last_dir())
        if target:
            self._run_import(Path(target), [Path(s) for s in sources])

    def _run_import(self, gallery: Path, sources: list[Path], engine: str = "lite",
                    pack: str | None = None) -> ImportDialog:
        dialog = ImportDialog(gallery, sources, engine=engine, parent=self, pack=pack)
        dialog.start()
        dialog.exec()
        return dialog

    def save_copy(self) -> None:
        if not self.session.is_open:
            return
        default = str(self.session.opened_case.path.with_name(self.session.opened_case.path.stem + "-copy.case"))
        out, _ = QFileDialog.getSaveFileName(self, "Save a copy of the case", default, "Case files (*.case)")
        if out:
            self.session.save_copy(out)

    # -- report -----------------------------------------------------------------------------
    def _check_report_support(self) -> None:
        def work(_job):
            try:
                from engine.report import write_report  # noqa: F401
            except ImportError as exc:  # an installation without the report writer
                return str(exc)
            return ""

        def failed(message, _exc):
            ok(message)

        def ok(problem):
            self.report_available = not problem
            self.report_action.setToolTip(
                f"Reports are not available in this installation ({problem})." if problem
                else "Write the case report as PDF or HTML")
            self._update_actions()

        self.side.start(work, ok, failed, name="report check")

    def export_report(self) -> None:
        if not (self.session.is_open and self.report_available):
            return
        default = str(self.session.opened_case.path.with_suffix(".pdf"))
        out, _ = QFileDialog.getSaveFileName(self, "Export report", default, "PDF (*.pdf);;HTML (*.html)")
        if out:
            self.session.export_report(out)

    # -- candidates and images --------------------------------------------------------------
    def show_details(self, row: int) -> None:
        def shown(details):
            view = DetailView(details, self)
            view.mark_requested.connect(self.mark_row)
            view.witness_requested.connect(self.show_to_witness)
            view.finished.connect(lambda _r, v=view: self.detail_views.remove(v) if v in self.detail_views else None)
            self.detail_views.append(view)
            view.show()

        self.session.details(row, shown)

    def _sha(self, row: int) -> str:
        return self.session.opened_case.shas[row]

    def mark_row(self, row: int, mark: str) -> None:
        dialog = mark_dialog(mark, self)
        if dialog.exec() == dialog.DialogCode.Accepted:
            self.session.mark(self._sha(row), mark, dialog.note())

    def show_to_witness(self, row: int) -> None:
        dialog = witness_dialog(self)
        if dialog.exec() == dialog.DialogCode.Accepted:
            self.session.show_to_witness(self._sha(row), dialog.note())

    def undo_round(self) -> None:
        if self.session.state is not None and self.session.state.dialogue and not self.session.busy:
            self.session.undo()

    # -- device -----------------------------------------------------------------------------
    def _detect_device(self) -> None:
        """GPU name from ``nvidia-smi -L`` (asynchronously; torch is never imported for this)."""
        self._smi = QProcess(self)

        def done(code, _status):
            out = bytes(self._smi.readAllStandardOutput()).decode(errors="replace")
            names = [line.split(":", 1)[1].split("(UUID")[0].strip() for line in out.splitlines()
                     if line.startswith("GPU ") and ":" in line]
            self._set_device(f"GPU: {names[0]}" if code == 0 and names else "CPU")

        self._smi.finished.connect(done)
        self._smi.errorOccurred.connect(lambda _e: self._set_device("CPU"))
        self._smi.start("nvidia-smi", ["-L"])

    def _set_device(self, text: str) -> None:
        self.device_label.setText(f"device: {text}")

    # -- drag and drop ----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt)
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.handle_dropped(paths)

    def handle_dropped(self, paths: list[Path]) -> None:
        cases = [p for p in paths if p.is_file()]
        folders = [p for p in paths if p.is_dir()]
        if cases:
            self.open_case(cases[0])
        elif folders:
            QTimer.singleShot(0, lambda: self.new_case([str(f) for f in folders]))

    # -- window state -----------------------------------------------------------------------
    def _last_dir(self) -> str:
        return str(self.settings.value("last_dir", "") or Path.home())

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        self.session.close()
        self.side.wait()
        super().closeEvent(event)
