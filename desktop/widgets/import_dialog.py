"""Import folders of crops into a gallery: progress with rate, ETA and Cancel, then a summary.

Cancel stops after the current batch (the importer's ``cancel`` callback); the gallery stays
consistent and importing the same folders again resumes where it stopped.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from interreid.engine.report.words import counted, noun

from ..workers import JobRunner

PROGRESS_INTERVAL_S = 0.1


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def write_skipped_csv(report, out: str | Path) -> Path:
    """The import's outcome as CSV: one summary row per count, then one row per skipped file."""
    out = Path(out)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["outcome", "path", "reason"])
        w.writerow(["imported", "", f"{report.imported} new images"])
        w.writerow(["duplicate", "", f"{report.duplicates} files with the same content as an imported image"])
        w.writerow(["already imported", "", f"{report.already} files unchanged since an earlier import"])
        for path, reason in report.partly_imported():
            w.writerow(["partly imported", path, reason])
        for path, reason in report.not_imported():
            w.writerow(["skipped", path, reason])
    return out


def sources_words(sources: list[Path]) -> str:
    """'2 folders', '1 folder and 1 file', '3 files': what an import was given (folders and video files mix)."""
    folders = sum(1 for s in sources if s.is_dir())
    files = len(sources) - folders
    parts = [f"{n} {word}{'' if n == 1 else 's'}" for n, word in ((folders, "folder"), (files, "file")) if n]
    return " and ".join(parts) or "nothing"


def video_words(report) -> str:
    """What the videos of an import gave, as the command line says it: people tracked, images kept, the camera
    and where the clock came from (a file's modification time is not when it was recorded)."""
    from html import escape

    from interreid.engine.video.cameras import clock_words

    videos = [v for v in report.videos if not str(v.get("status", "")).startswith("already")]
    if not videos:
        return ""
    people, kept = sum(v.get("tracks", 0) for v in videos), sum(v.get("crops", 0) for v in videos)
    cameras = ", ".join(sorted({str(v["camera"]) for v in videos if v.get("camera")})) or "none named"
    clocks = ", ".join(sorted({clock_words(v.get("time_from")) for v in videos}))
    return (f"<br>From {counted(len(videos), 'video', 'videos')}: <b>{people:,}</b> "
            f"{noun(people, 'person', 'people')} tracked, {counted(kept, 'image', 'images')} kept · "
            f"camera {escape(cameras)} · times from {escape(clocks)}")


class ImportDialog(QDialog):
    """Runs one import when shown (``start()``); ``report`` holds the ImportReport afterwards."""

    imported = Signal(object)  # ImportReport (also when cancelled)

    def __init__(self, gallery_folder: str | Path, sources: list[str | Path], engine: str = "lite",
                 parent: QWidget | None = None, pack: str | Path | None = None, encrypt: bool | None = None,
                 ray=None, tower: str | None = None):
        super().__init__(parent)
        self.tower = tower  # a new full-engine gallery's image tower (fp32 / int8); None: the gallery's own
        self.ray = ray  # RayOptions: the work spread over Ray workers (the gallery is the same)
        self.encrypt = encrypt  # a new gallery encrypted at rest; None: when the workstation passphrase is known
        self.gallery_folder = Path(gallery_folder)
        self.sources = [Path(s) for s in sources]
        self.engine = engine
        self.pack = pack  # the model pack of the full engine
        self.report = None
        self.error = ""
        self.runner = JobRunner(1, self)
        self.job = None
        self.setWindowTitle("Import gallery")
        self.setMinimumWidth(720)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        spread = ""
        if ray is not None:
            spread = (f" on the computing cluster {ray.address}" if ray.address else
                      f" with {ray.workers} parallel workers")
        self.heading = QLabel(f"Importing {sources_words(self.sources)} into {self.gallery_folder}{spread}")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        layout.addWidget(self.bar)
        self.status = QLabel("Finding images…")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)  # a video's progress line is longer than the dialog is wide
        layout.addWidget(self.status)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.hide()
        layout.addWidget(self.summary)
        self.skipped = QTableWidget(0, 2)
        self.skipped.setHorizontalHeaderLabels(["File", "Reason"])
        self.skipped.verticalHeader().setVisible(False)
        self.skipped.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.skipped.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.skipped.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.skipped.setWordWrap(True)  # reasons are whole sentences: wrapped, never cut short
        self.skipped.setMinimumHeight(self.fontMetrics().lineSpacing() * 9 + 30)  # about six rows
        self.skipped.hide()
        layout.addWidget(self.skipped, 1)
        buttons = QHBoxLayout()
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._export)
        self.export_button.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        self.close_button.hide()
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

    # -- running ----------------------------------------------------------------------------
    def start(self) -> None:
        folder, sources, engine_name, encrypt = self.gallery_folder, list(self.sources), self.engine, self.encrypt
        options = {"pack": self.pack} if self.pack is not None else {}
        if self.tower is not None and self.engine == "full":
            options["tower"] = self.tower
        if self.ray is not None:
            options["ray"] = self.ray

        def work(job):
            from interreid.engine.session import check_sources, import_into

            check_sources(sources)  # before the gallery folder is made: a wrong folder leaves nothing behind

            last = [0.0]

            def progress(p):
                now = time.monotonic()
                # a video's progress comes at most twice a second (and once at its end): never dropped
                if p.video is not None or now - last[0] >= PROGRESS_INTERVAL_S or p.done == p.total:
                    last[0] = now
                    job.report(p)

            from interreid.engine.storage.keys import passphrase_available

            # a new gallery is encrypted at rest when the workstation passphrase is known (the window
            # asks first); the demo's gallery is plain
            secret = passphrase_available() if encrypt is None else encrypt
            return import_into(folder, sources, engine=engine_name, progress=progress,
                               cancel=lambda: job.cancelled, encrypt=secret, **options)

        self.job = self.runner.start(work, self._finished, self._failed, self._progress, name="import")

    def cancel(self) -> None:
        if self.job is not None and self.report is None and not self.error:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling after the current batch…")
        else:
            self.reject()

    def reject(self) -> None:
        if self.job is not None and self.report is None and not self.error:
            self.cancel()  # closing the window cancels; the dialog closes when the import stops
            return
        super().reject()

    def _progress(self, p) -> None:
        if getattr(p, "video", None):
            self._video_progress(p.video)
            return
        self.bar.setRange(0, max(p.total, 1))
        self.bar.setValue(p.done)
        self.status.setText(f"{p.done:,} of {p.total:,} files · {p.rate:,.1f} files/s · "
                            f"about {format_seconds(p.eta_s)} left · {p.imported:,} new, "
                            f"{p.duplicates:,} duplicate, {p.skipped:,} skipped")

    def _video_progress(self, v: dict) -> None:
        """A video being cut into person crops: frames done, frames/s, time left, people found."""
        total = v.get("frames_total") or 0
        done = v["frame"] + 1
        self.bar.setRange(0, max(total, done))
        self.bar.setValue(done)
        rate = v.get("frames_per_s") or 0.0
        left = (total - done) / rate if rate and total else None
        name = Path(v.get("file") or "").name
        self.status.setText(f"Video {v.get('file_number', 1)} of {v.get('files', 1)}: {name} · frame {done:,}"
                            + (f" of {total:,}" if total else "") + f" · {rate:,.1f} frames/s · about "
                            f"{format_seconds(left)} left · {counted(v.get('tracks', 0), 'person', 'people')} so far, "
                            f"{v.get('crops', 0):,} images kept")

    def _finished(self, report) -> None:
        self.report = report
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        verb = "Import cancelled" if report.cancelled else "Import finished"
        resume = " Import the same folders again to resume." if report.cancelled else ""
        self.status.setText(f"{verb} in {format_seconds(report.elapsed_s)}.{resume}")
        # a truncated video's crops up to where it stops are imported: it is not counted as skipped
        partly, skipped = report.partly_imported(), report.not_imported()
        cut = (f" · <b>{len(partly):,}</b> video(s) imported only up to where they stop" if partly else "")
        self.summary.setText(
            f"<b>{report.imported:,}</b> imported · <b>{report.duplicates:,}</b> duplicate · "
            f"<b>{report.already:,}</b> already in the gallery · <b>{len(skipped):,}</b> skipped{cut} "
            f"(of {report.total_files:,} file{'' if report.total_files == 1 else 's'})" + video_words(report))
        self.summary.show()
        from interreid.engine.video.importer import no_one_found, untimed_note

        noted = [(v["path"], [n for n in (no_one_found(v), untimed_note(v)) if n]) for v in report.videos]
        noted = [(path, "Imported, but " + "; and ".join(notes) + ".") for path, notes in noted if notes]
        rows = [(path, f"Only partly imported: {reason}") for path, reason in partly] + noted + skipped
        self.skipped.setRowCount(len(rows))
        for i, (path, reason) in enumerate(rows):
            item = QTableWidgetItem(Path(path).name)
            item.setToolTip(path)
            self.skipped.setItem(i, 0, item)
            why = QTableWidgetItem(reason)
            why.setToolTip(reason)
            self.skipped.setItem(i, 1, why)
        self.skipped.setVisible(bool(rows))
        if rows:
            self.skipped.setColumnWidth(0, min(260, max(140, self.skipped.sizeHintForColumn(0) + 16)))
            self.skipped.resizeRowsToContents()
            self.resize(max(self.width(), 760), max(self.height(), 460))
        self.export_button.show()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)
        self.imported.emit(report)

    def _failed(self, message: str, _exc) -> None:
        self.error = message
        self.bar.hide()  # nothing was imported and nothing is running: no "0%" over the reason
        self.status.hide()
        self.summary.setText(f"<span style='color:#b00020'>{message}</span>")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.show()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)
        self.layout().activate()  # the dialog grows to show every line of the reason, not the running size
        self.resize(self.width(), max(self.height(), self.heightForWidth(self.width()), self.sizeHint().height()))

    def _export(self) -> None:
        out, _ = QFileDialog.getSaveFileName(self, "Export import summary", "import-summary.csv", "CSV (*.csv)")
        if out:
            write_skipped_csv(self.report, out)

    def skipped_reasons(self) -> dict[str, str]:
        """File name -> reason, as shown (for tests and accessibility tools)."""
        return {self.skipped.item(i, 0).text(): self.skipped.item(i, 1).text()
                for i in range(self.skipped.rowCount())}
