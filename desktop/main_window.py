"""The main window: start screen and interview screen, menus, shortcuts, status bar, drops."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QProcess, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QStackedWidget,
                               QVBoxLayout, QWidget)

from .passphrase import ensure_passphrase
from .plain import plain_engine
from .session import CaseSession, case_title
from .settings import add_recent_case, open_settings, recent_cases, recent_titles
from .widgets.banner import Banner
from .widgets.detail_view import DetailView
from .widgets.dialogs import LineupDialog, mark_dialog, witness_dialog
from .widgets.import_dialog import ImportDialog
from .widgets.interview_page import InterviewPage
from .widgets.new_case_dialog import NewCaseDialog, NewCaseRequest
from .widgets.similar_view import SimilarView
from .widgets.start_page import StartPage
from .widgets.witness_view import WitnessView, load_original
from .workers import JobRunner

log = logging.getLogger("interreid.desktop")
MARK_WORDS = {"match": "marked match", "possible": "marked possible", "excluded": "excluded"}
MAX_BANNER_LINES = 300  # a verification's lines in the message strip, which scrolls past a few lines


class MainWindow(QMainWindow):
    def __init__(self, settings=None, detect_device: bool = True):
        super().__init__()
        self.settings = settings or open_settings()
        self.session = CaseSession(self)
        self.side = JobRunner(1, self)
        self.detail_views: list[DetailView] = []
        self.witness_windows: list[WitnessView] = []
        self.report_available: bool | None = None
        self.last_verification = None
        self.relocation: dict | None = None  # a moved gallery's new folder being recorded, then what was said
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
        self._show_recent()
        self._restore_geometry()
        self._check_report_support()
        if detect_device:
            QTimer.singleShot(0, self._detect_device)

    def _show_recent(self) -> None:
        """Recent cases by title: the remembered one, else read from the case file (its name if unreadable)."""
        paths = recent_cases(self.settings)
        titles = recent_titles(self.settings)
        for p in paths:
            if p not in titles:
                titles[p] = case_title(p)
        self.start_page.set_recent(paths, titles)

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
        self.import_video_action = self._action("Import &video files…", self.import_video_files_dialog, None,
                                                file_menu, "Import chosen video files (CCTV exports) into a "
                                                           "gallery, without the other files of their folder")
        file_menu.addSeparator()
        self.save_action = self._action("&Save a copy of the case…", self.save_copy, QKeySequence.StandardKey.Save,
                                        file_menu, "Everything is saved as you work; this writes a copy "
                                                   "(e.g. for an evidence drive).")
        self.report_action = self._action("&Export report…", self.export_report, "Ctrl+E", file_menu)
        self.verify_action = self._action("&Verify case", self.verify_case, "Ctrl+Shift+V", file_menu,
                                          "Check that the case file's record is unbroken and that every gallery "
                                          "image is unchanged")
        self.verify_report_action = self._action("Verify against a &report…", self.verify_against_report, None,
                                                 file_menu, "Check the case still holds everything a report "
                                                            "exported from it recorded")
        self.verify_report_action.setEnabled(False)
        self.close_action = self._action("&Close case", self.close_case, "Ctrl+W", file_menu)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, file_menu)
        iv = bar.addMenu("&Interview")
        q = self.interview_page.questions
        self.ask_action = self._action("&Ask", q._ask, None, iv, "Record the answer (Enter in the answer box)")
        self.skip_action = self._action("&Skip question", q.skip_requested.emit, "Ctrl+K", iv,
                                        "Do not ask this question; suggest another")
        self.dont_know_action = self._action("Witness &doesn't know", q.dont_know_button.click, "Ctrl+D", iv)
        self.undo_action = self._action("&Undo last round", self.undo_round, QKeySequence.StandardKey.Undo, iv)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.answer_action = self._action("Go to the &answer box", self._focus_answer, "Ctrl+J", iv)
        iv.addSeparator()
        im = bar.addMenu("I&mage")
        self.card_actions = [self._action(f"Go to candidate &{i + 1}", lambda _c=False, i=i: self._focus_card(i),
                                          f"Alt+{i + 1}", im) for i in range(4)]
        im.addSeparator()
        self.match_action = self._action("Mark as &match…", lambda: self._on_current(self.mark_row, "match"),
                                         "Ctrl+Shift+M", im, "Mark the selected image (M on a card or the grid)")
        self.possible_action = self._action("Mark as &possible…",
                                            lambda: self._on_current(self.mark_row, "possible"), "Ctrl+Shift+P",
                                            im, "Mark the selected image (P on a card or the grid)")
        self.excluded_action = self._action("Mark as e&xcluded…",
                                            lambda: self._on_current(self.mark_row, "excluded"), "Ctrl+Shift+X",
                                            im, "Mark the selected image (X on a card or the grid)")
        im.addSeparator()
        self.details_action = self._action("&Details…", lambda: self._on_current(self.show_details), "Ctrl+I", im)
        self.similar_action = self._action("Find &similar-looking images",
                                           lambda: self._on_current(self.find_similar), "Ctrl+Shift+F", im)
        self.witness_action = self._action("Show to &witness…", lambda: self._on_current(self.show_to_witness),
                                           "Ctrl+Shift+W", im)
        self.image_actions = self.card_actions + [self.match_action, self.possible_action, self.excluded_action,
                                                  self.details_action, self.similar_action, self.witness_action]
        self.lineup_action = self._action("Show a &line-up to the witness…", self.show_lineup, "Ctrl+Shift+L", iv,
                                          "Choose several images and their order; the witness sees them "
                                          "numbered, full screen, without scores")
        iv.addSeparator()
        self.filter_action = self._action("&Filter the ranking", self.interview_page.grid.focus_filter,
                                          QKeySequence.StandardKey.Find, iv)
        for a in (self.save_action, self.report_action, self.verify_action, self.close_action, self.ask_action,
                  self.skip_action, self.dont_know_action, self.undo_action, self.filter_action,
                  self.lineup_action, *self.image_actions):
            a.setEnabled(False)
        hm = bar.addMenu("&Help")
        self.guide_action = self._action("&Guide to an interview", lambda: self.show_help("guide"),
                                         QKeySequence.StandardKey.HelpContents, hm)
        self.shortcuts_action = self._action("&Keyboard shortcuts", lambda: self.show_help("shortcuts"), "Ctrl+/",
                                             hm)
        self.numbers_action = self._action("What the &numbers mean", lambda: self.show_help("numbers"), None, hm)

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
        s.open_failed.connect(self._on_open_failed)
        s.gallery_moved.connect(self._on_gallery_moved)
        s.info.connect(self._on_info)
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
            self._connect_image_actions(source)

    def _connect_image_actions(self, source) -> None:
        """Every view of images offers the same actions: details, mark, show to witness, find similar."""
        if hasattr(source, "open_row"):
            source.open_row.connect(self.show_details)
        source.mark_requested.connect(self.mark_row)
        source.witness_requested.connect(self.show_to_witness)
        source.similar_requested.connect(self.find_similar)

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
        for a in (self.save_action, self.verify_action, self.verify_report_action, self.close_action,
                  self.filter_action):
            a.setEnabled(open_)
        self.lineup_action.setEnabled(started and idle)
        self.answer_action.setEnabled(started)
        for a in self.image_actions:
            a.setEnabled(started and idle)
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
        if not ensure_passphrase(self, path):
            self.show_message(f"{path.name} was not opened: it is not an interreid case file, or it is encrypted "
                              "and needs the workstation passphrase.", "warning")
            return
        self.banner.hide()
        self.session.open(path)

    def _on_open_failed(self, message: str) -> None:
        """Nothing changed: the window goes on showing the case that is open (or the start page; also when the
        open case had to be closed: the session's message says so)."""
        self.relocation = None
        if not self.session.is_open:
            self.close_case()
        self.show_message(message, "error")
        self._update_actions()

    def _on_gallery_moved(self, case_path, folder: str, message: str) -> None:
        """The case's gallery is not at the folder the case names: offer to choose where it is now; the case
        records the new folder (audited) once it holds the same gallery."""
        answer = QMessageBox.question(
            self, "Gallery not found",
            f"The case {Path(case_path).name} searched a gallery that is no longer at {folder} (moved, renamed, or "
            "on a drive that is not connected).\n\nChoose the folder the gallery is in now? The case records the "
            "new folder in its audit log, and only if it holds the same gallery.")
        chosen = ""
        if answer == QMessageBox.StandardButton.Yes:
            chosen = QFileDialog.getExistingDirectory(self, "The gallery's folder now", str(Path(folder).parent))
        if not chosen:
            self._on_open_failed(f"The case {Path(case_path).name} could not be opened: {message}")
            return
        self.relocation = {"case": Path(case_path)}
        self.session.relocate_gallery(Path(case_path), chosen)

    def _on_info(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)
        if self.relocation is not None and "said" not in self.relocation:
            self.relocation["said"] = message  # shown with the case once it opens (the status bar's is replaced)

    def open_case_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open case", self._last_dir(), "Case files (*.case);;All files (*)")
        if path:
            self.open_case(path)

    def close_case(self) -> None:
        for view in self.witness_windows + self.detail_views:
            view.close()
        self.session.close()
        self.stack.setCurrentWidget(self.start_page)
        self._show_recent()
        self.engine_label.setText("no case open")
        self.gallery_label.setText("")
        self.setWindowTitle("interreid")
        self._update_actions()

    def _on_opened(self, opened) -> None:
        self.last_verification = None
        for view in self.detail_views + self.witness_windows:  # nothing of the previous case stays open
            view.close()
        self.detail_views.clear()
        self.witness_windows.clear()
        add_recent_case(self.settings, opened.path, opened.title)
        self.settings.setValue("last_dir", str(opened.path.parent))
        self.interview_page.show_case(opened)
        self.stack.setCurrentWidget(self.interview_page)
        self.setWindowTitle(f"{opened.title} — interreid")
        self.engine_label.setText(plain_engine(opened.engine_kind, opened.engine_text))
        self.engine_label.setToolTip(f"Technical: {opened.engine_text}")
        self.gallery_label.setText(f"gallery: {opened.gallery_size:,} images")
        self.gallery_label.setToolTip(str(opened.gallery_folder))
        relocation, self.relocation = self.relocation, None
        notes = ([relocation["said"]] if relocation and relocation.get("said") and relocation["case"] == opened.path
                 else []) + list(opened.notes)
        if opened.warnings:
            self.show_message(" ".join(opened.warnings + notes), "warning")
        elif notes:
            self.show_message(" ".join(notes), "info")
        if opened.state is None:
            self.interview_page.questions.description.setFocus()
        self._update_actions()
        self._offer_migration()

    def _offer_migration(self) -> None:
        """A case made by an earlier interreid is read as it is; adding to it needs its format upgraded."""
        from interreid.engine.casefile.case import SIGNED_FROM_VERSION

        case = self.session.case  # format 2 cases take additions as they are (format 3 changed new cases only)
        if case is None or getattr(case, "version", SIGNED_FROM_VERSION) >= SIGNED_FROM_VERSION:
            return
        answer = QMessageBox.question(
            self, "Case made by an earlier interreid",
            f"This case was made by an earlier version of interreid (format {case.version}). It can be read and "
            "verified as it is, but nothing can be added to it until it is upgraded. Upgrade it now? The upgrade "
            "keeps every record and is itself recorded in the case's audit log.")
        if answer == QMessageBox.StandardButton.Yes:
            self.session.migrate()
        else:
            self.show_message("The case is open to read only: upgrade it (File → Open again, or 'interreid case "
                              "migrate') before adding to it.", "warning")

    def _on_state(self, state) -> None:
        if self.banner.level == "error":
            self.banner.hide()  # the last step worked: an earlier error no longer applies
        self.interview_page.show_state(state)
        self._update_actions()

    def _on_verified(self, verification) -> None:
        self.last_verification = verification
        if verification.ok:
            fileless = next((n for n in verification.notes if "no source file" in n), "")  # synthetic rows
            self.statusBar().showMessage(f"Case verified: its record is complete and unaltered, and the "
                                         f"{verification.images_checked} gallery images are unchanged"
                                         + (f"; {fileless}." if fileless else "."), 8000)
            return
        self.statusBar().clearMessage()  # "Verifying the case…" has ended; the strip says how
        every = verification.lines()
        # the audit log's figures (rows, head hash, signing key, anchors) and the notes of what matched are for the
        # details (the strip's tooltip, the report): the strip says what is wrong, and a broken log says so
        technical = ("head: ", "signed by workstation key", "  note: ") + (("audit log: ",) if verification.chain_ok
                                                                          else ())
        lines = [line for line in every if not line.startswith(technical)]
        if len(lines) > MAX_BANNER_LINES:
            lines = lines[:MAX_BANNER_LINES] + [f"  … and {len(lines) - MAX_BANNER_LINES:,} more lines: the case "
                                                "report's verification section counts them all"]
        head = ("<b>This case's evidence has changed since it was recorded.</b> "
                if verification.altered_images or verification.missing_images or verification.gallery_problems else
                "<b>This case's gallery images could not be checked.</b> " if verification.chain_ok else
                "<b>This case file has been altered outside interreid.</b> ")
        import html

        body = "<br>".join(html.escape(line) for line in lines)
        self.show_message(head + "Rankings may no longer match the images on disk.<br>" + body, "warning")
        self.banner.label.setToolTip("Technical:\n" + "\n".join(every[:MAX_BANNER_LINES]))

    def new_case(self, sources: list[str] | None = None) -> None:
        last = self.settings.value("last_gallery", "") or None  # the gallery imported last, if still there
        last = last if last and (Path(last) / "gallery.db").is_file() else None
        dialog = NewCaseDialog(self, sources=sources or None, gallery=last)
        if dialog.exec() != NewCaseDialog.DialogCode.Accepted:
            return
        request = dialog.request()
        if request is None:
            return
        if request.import_sources:
            importer = self._run_import(request.gallery_folder, request.import_sources, request.engine, request.pack,
                                        request.tower)
            if importer is None:  # no passphrase for the new gallery: the window said so
                return
            report = importer.report
            if importer.error:  # a wrong or empty folder: its sentence, not "import again to resume"
                self.show_message(f"{importer.error} No case was created.", "error")
                return
            if report is None or report.cancelled:
                self.show_message("The import did not finish, so no case was created; import again to resume.",
                                  "warning")
                return
        self._create_case(request)

    def _create_case(self, request: NewCaseRequest) -> None:
        if not ensure_passphrase(self, new=True):
            self.show_message("No case was created: new cases are encrypted and need a workstation passphrase.",
                              "warning")
            return
        self.banner.hide()
        self.session.create_and_open(request)

    def import_gallery_dialog(self, sources: list[str] | None = None) -> None:
        """Import folders into a gallery chosen here (a new or an existing one)."""
        if not sources:
            folder = QFileDialog.getExistingDirectory(self, "Folder of person crops or video to import",
                                                      self._last_dir())
            if not folder:
                return
            sources = [folder]
        target = QFileDialog.getExistingDirectory(self, "Gallery folder (new and empty, or an existing gallery)",
                                                  self._last_dir())
        if not target:
            return
        importer = self._run_import(Path(target), [Path(s) for s in sources])
        report = importer.report if importer is not None else None
        if report is None or report.cancelled:
            return  # the dialog said why (nothing to import) or how to resume
        held = report.gallery_images
        if held:
            self.settings.setValue("last_gallery", str(target))
            self.show_message(f"The gallery {target} holds {held:,} images. To interview a witness on it, choose "
                              "New case: the gallery is filled in.", "info")

    def import_video_files_dialog(self) -> None:
        """Import video files chosen one by one (a CCTV export saved among other files), not a whole folder."""
        from interreid.engine.video import VIDEO_EXTENSIONS

        pattern = " ".join(f"*{e}" for e in sorted(VIDEO_EXTENSIONS))
        paths, _ = QFileDialog.getOpenFileNames(self, "Video files (CCTV exports) to import", self._last_dir(),
                                                f"Video ({pattern});;All files (*)")
        if paths:
            self.import_gallery_dialog(paths)

    def _run_import(self, gallery: Path, sources: list[Path], engine: str = "lite",
                    pack: str | None = None, tower: str | None = None) -> ImportDialog | None:
        """The import dialog, run; None when the passphrase a new gallery is encrypted with was not given (like the
        command line, the window never makes an unencrypted gallery unasked)."""
        if not ensure_passphrase(self, new=True) and not (Path(gallery) / "gallery.db").is_file():
            self.show_message("Nothing was imported: a new gallery is encrypted, and needs the workstation "
                              "passphrase. Import again and type it when asked.", "warning")
            return None
        from .settings import open_settings, ray_import

        dialog = ImportDialog(gallery, sources, engine=engine, parent=self, pack=pack, tower=tower,
                              ray=ray_import(open_settings()))
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
                from interreid.engine.report import write_report  # noqa: F401
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

    def verify_against_report(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Report of this case", self._last_dir(),
                                                  "Reports (*.pdf *.html *.htm);;All files (*)")
        if path:
            self.session.verify(report=path)

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
            view = DetailView(details, self, self.interview_page.thumbs)
            self._connect_image_actions(view)
            view.finished.connect(lambda _r, v=view: self.detail_views.remove(v) if v in self.detail_views else None)
            self.detail_views.append(view)
            view.show()

        self.session.details(row, shown)

    def _on_current(self, fn, *args) -> None:
        """Apply an image action to the image the keyboard is on (a focused card or the grid's item)."""
        row = self.interview_page.current_row() if self.session.is_open else None
        if row is not None:
            fn(row, *args)

    def _focus_card(self, i: int) -> None:
        self.interview_page.candidates.focus_card(i)

    def _focus_answer(self) -> None:
        self.interview_page.questions.answer.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def verify_case(self) -> None:
        if self.session.is_open:
            self.statusBar().showMessage("Verifying the case and re-hashing its images…", 8000)
            self.session.verify()

    def show_help(self, topic: str = "guide") -> None:
        from .widgets.help_dialog import HelpDialog

        if getattr(self, "help_dialog", None) is None:
            self.help_dialog = HelpDialog(self.shortcut_table(), self)
        self.help_dialog.show_topic(topic)
        self.help_dialog.show()
        self.help_dialog.raise_()

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every action with a shortcut, then the keys of cards and the grid."""
        rows = []
        for action in self.actions():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                rows.append((keys, action.text().replace("&", "").rstrip("…")))
        rows += [("Enter", "In the description: search. In the answer box: record the answer"),
                 ("Shift+Enter", "In the description: start a new line"),
                 ("Tab / Shift+Tab", "Move between boxes, buttons, cards and the grid"),
                 ("Enter (on a card or the grid)", "Details of the image"),
                 ("M / P / X (on a card or the grid)", "Mark as match / possible / excluded"),
                 ("W (on a card or the grid)", "Show the image to the witness"),
                 ("S (on a card or the grid)", "Find similar-looking images"),
                 ("+ / - / 0 / F (details view)", "Zoom in / out / true pixel size / fit"),
                 ("Esc (witness view)", "Close the witness view")]
        return rows

    def find_similar(self, row: int) -> None:
        page = self.interview_page

        def shown(result):
            view = SimilarView(result, self.session.opened_case, page.thumbs,
                               {s: m["mark"] for s, m in self.session.marks.items()}, set(page.shown), self)
            self._connect_image_actions(view)
            # marks and showings made anywhere are badged in the side window too
            self.session.marks_changed.connect(view.set_marks)
            self.session.witness_views_changed.connect(view.set_witness_views)
            view.finished.connect(lambda _r, v=view: self.detail_views.remove(v) if v in self.detail_views else None)
            self.detail_views.append(view)
            view.show()

        self.session.find_similar(row, shown)

    def _sha(self, row: int) -> str:
        return self.session.opened_case.shas[row]

    def mark_row(self, row: int, mark: str) -> None:
        dialog = mark_dialog(mark, self)
        if dialog.exec() == dialog.DialogCode.Accepted:
            self.session.mark(self._sha(row), mark, dialog.note())

    def show_to_witness(self, row: int) -> None:
        """Warn, require a reason, record who/when/what/why, then show the image alone, full screen."""
        if not self.session.is_open:
            return
        dialog = witness_dialog(self)
        if dialog.exec() == dialog.DialogCode.Accepted:
            self.session.show_to_witness(self._sha(row), dialog.note(), self._present_to_witness)

    def show_lineup(self) -> None:
        """Choose several images and their order; record them; show them numbered, full screen."""
        if not self.session.is_open:
            return
        dialog = LineupDialog(self._lineup_choices(), self)
        if dialog.exec() == dialog.DialogCode.Accepted:
            self.session.show_to_witness(dialog.chosen(), dialog.note(), self._present_to_witness)

    def _lineup_choices(self) -> list:
        """The round's candidates, then marked images, then the next best-ranked (12 at most)."""
        opened, page = self.session.opened_case, self.interview_page
        rows: list[int] = []
        state = self.session.state
        if state is not None:
            rows += [c.row for c in state.candidates]
        for s, m in self.session.marks.items():
            if m["mark"] in ("match", "possible") and s in opened.shas:
                rows.append(opened.shas.index(s))
        if state is not None:
            rows += [int(r) for r in state.rows[:12]]
        seen, out = set(), []
        for r in rows:
            if r in seen or len(out) >= 12:
                continue
            seen.add(r)
            mark = (self.session.marks.get(opened.shas[r]) or {}).get("mark", "")
            rank = page.model.view_row_of(r) if page.model is not None else None
            bits = [f"rank {int(page.model.position(rank)) + 1}" if rank is not None else "",
                    opened.cameras[r] or "", (opened.timestamps[r] or "").replace("T", " "),
                    MARK_WORDS.get(mark, ""), "already shown to the witness" if opened.shas[r] in page.shown else ""]
            out.append((opened.shas[r], " · ".join(b for b in bits if b) or f"image {r + 1}",
                        page.thumbs.get(r) if page.thumbs is not None else None))
        return out

    def _present_to_witness(self, sources: list[list[str]]) -> None:
        view = WitnessView([load_original(s) for s in sources])
        self.witness_windows.append(view)
        view.closed.connect(lambda v=view: self.witness_windows.remove(v) if v in self.witness_windows else None)
        view.present()

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
        import shiboken6

        if shiboken6.isValid(self.device_label):  # the probe may finish while the window closes
            self.device_label.setText(f"device: {text}")

    def _stop_device_probe(self) -> None:
        """Stop ``nvidia-smi`` if it still runs, so its callback never reaches a closed window."""
        smi = getattr(self, "_smi", None)
        if smi is None:
            return
        smi.finished.disconnect()
        smi.errorOccurred.disconnect()
        if smi.state() != QProcess.ProcessState.NotRunning:
            smi.kill()
            smi.waitForFinished(1000)

    # -- drag and drop ----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt)
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.handle_dropped(paths)

    def handle_dropped(self, paths: list[Path]) -> None:
        from interreid.engine.video import is_video

        cases = [p for p in paths if p.is_file() and not is_video(p)]
        folders = [p for p in paths if p.is_dir() or is_video(p)]  # video files become import sources
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
        self._stop_device_probe()
        self.session.close()
        self.side.wait()
        super().closeEvent(event)
