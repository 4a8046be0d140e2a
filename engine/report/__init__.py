"""Case reports: one self-contained PDF or HTML file a supervisor, prosecutor or defence counsel can
read and check.

    from interreid.engine.report import write_report
    path = write_report("Fall 42.case", "Fall 42.pdf")   # or .html

The report shows the case, engine and gallery identities, the whole interview (suggested and asked
questions, answers, undone rounds, the candidates shown), the final top results, the marks with a
rank-over-rounds chart, every image's SHA-256 and source, any images shown to the witness, and the
audit log's verification at export time. After writing, the report's SHA-256 goes into the case's
audit log (``report.exported``) and into a ``<report>.sha256`` file beside it (sha256sum format).

reportlab, matplotlib and PIL are imported only when a report is written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import UserError

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}

__all__ = ["write_report", "report_format", "FORMATS"]


def report_format(out: str | Path) -> str:
    """'pdf' or 'html' from the file name; UserError for anything else."""
    fmt = FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise UserError(f"Cannot write a report as '{Path(out).name}'; give a file name ending in .pdf or .html.")
    return fmt


def write_report(case_path: str | Path, out: str | Path) -> Path:
    """Write the report of the case file ``case_path`` to ``out`` (.pdf or .html); return its path.

    Also writes ``out + '.sha256'`` and logs ``report.exported`` (path, sha256, format) in the case.
    A case whose audit chain is broken is still reported, with the problem on the first page.
    """
    from ..casefile import CaseFile
    from ..hashing import sha256_file
    from .data import collect

    fmt = report_format(out)
    out = Path(out).expanduser().absolute()
    if not out.parent.is_dir():
        raise UserError(f"Folder {out.parent} does not exist; choose another place for the report.")
    if out.is_dir():
        raise UserError(f"{out} is a folder; give a file name ending in .pdf or .html for the report.")
    from ..storage import DatabaseError

    with CaseFile.open(case_path) as case:
        try:
            data = collect(case)
        except DatabaseError as exc:
            raise UserError(f"The case file {case.path} is damaged ({exc}), so no report can be written; "
                            "'interreid case verify' says what is missing.") from None
        fd, tmp_name = tempfile.mkstemp(prefix=".report-", suffix=out.suffix, dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if fmt == "pdf":
                from .pdf_report import render_pdf

                render_pdf(data, tmp)
            else:
                from .html_report import render_html

                tmp.write_text(render_html(data), encoding="utf-8")
            tmp.replace(out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        digest = sha256_file(out)
        sidecar = out.with_name(out.name + ".sha256")
        # sha256sum -c skips '#' lines: the head the report carries stays beside it, machine-readable
        comment = f"# {data.head_tag}\n" if data.head_tag else ""
        sidecar.write_text(f"{comment}{digest}  {out.name}\n", encoding="utf-8")
        case.log_event("report", "report.exported", {"path": str(out), "sha256": digest, "format": fmt})
    return out
