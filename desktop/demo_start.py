"""``interreid demo`` in the window: the window appears at once; on the first run the bundled
footage is imported inside it (the import dialog, with progress and Cancel), later runs reuse the
built gallery; then a new demo case opens."""

from __future__ import annotations

from pathlib import Path


def start_demo(window) -> None:
    from interreid.engine.demo import demo_gallery_folder, demo_gallery_ready, demo_video, ensure_demo_gallery, new_demo_case

    from .widgets.import_dialog import ImportDialog

    folder = demo_gallery_folder()
    if not demo_gallery_ready():
        if demo_video().is_file():
            dialog = ImportDialog(folder, [demo_video()], parent=window, encrypt=False)  # the demo is plain
            dialog.setWindowTitle("Building the demo gallery from the sample footage")
            dialog.heading.setText("Finding the people in the sample footage (OpenCV's vtest.avi) and keeping "
                                   "the best images of each. This happens once; later demos reuse it.")
            dialog.start()
            dialog.exec()
            if dialog.report is None or dialog.report.cancelled:
                window.show_message("The demo gallery is not finished; start the demo again to resume where it "
                                    "stopped.", "warning")
                return
        else:
            folder = ensure_demo_gallery()
    window.open_case(Path(new_demo_case(folder)))
