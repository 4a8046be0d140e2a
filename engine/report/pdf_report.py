"""The case report as PDF, drawn with reportlab (no browser engine), thumbnails embedded.

Text is set in DejaVu Sans (bundled with matplotlib) so that names such as "Zeugin Müller" print
correctly; characters it lacks (e.g. CJK) are set in a system fallback font when one is installed,
and Helvetica is used when DejaVu cannot be found. Nothing here ever fails on a character.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from .chart import rank_chart_png
from .data import (LEADS_STATEMENT, PERSONAL_DATA_NOTICE, ReportData, case_lines, engine_lines, fmt_ts,
                   gallery_lines)
from .thumbs import ThumbCache
from .words import plain_rationale, plain_reasons

RED = "#b00020"
AMBER = "#c77700"
SLATE = "#2c3e50"
# TrueType (not CFF) fonts with CJK glyphs, tried in order when text needs them
FALLBACK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)


class _Fonts:
    """Registered font names: regular, bold, mono, and an optional fallback for missing glyphs."""

    def __init__(self):
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        self.regular, self.bold, self.mono = "Helvetica", "Helvetica-Bold", "Courier"
        self.fallback: str | None = None
        self._covered: set[int] | None = None
        self._fallback_covered: set[int] = set()
        try:
            import matplotlib

            ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
            for name, file in (("IR-Sans", "DejaVuSans.ttf"), ("IR-Sans-Bold", "DejaVuSans-Bold.ttf"),
                               ("IR-Mono", "DejaVuSansMono.ttf")):
                if name not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont(name, str(ttf / file)))
            self.regular, self.bold, self.mono = "IR-Sans", "IR-Sans-Bold", "IR-Mono"
            self._covered = set(pdfmetrics.getFont("IR-Sans").face.charToGlyph)
        except Exception:  # noqa: BLE001  (no matplotlib fonts: Helvetica still prints Latin text)
            pass

    def _load_fallback(self) -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        self.fallback = ""
        for path in FALLBACK_FONT_FILES:
            if not Path(path).is_file():
                continue
            try:
                if "IR-Fallback" not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont("IR-Fallback", path, subfontIndex=0))
                self.fallback = "IR-Fallback"
                self._fallback_covered = set(pdfmetrics.getFont("IR-Fallback").face.charToGlyph)
                return
            except Exception:  # noqa: BLE001  (a CFF or broken font: try the next one)
                continue

    def markup(self, text) -> str:
        """Escaped paragraph markup; runs of characters the main font lacks use the fallback font."""
        text = "" if text is None else str(text)
        if self._covered is None or all(ord(ch) in self._covered or ch in "\n\t" for ch in text):
            return escape(text)
        if self.fallback is None:
            self._load_fallback()
        if not self.fallback:
            return escape(text)
        out, run, run_fb = [], [], False
        for ch in text:
            fb = ord(ch) not in self._covered and ord(ch) in self._fallback_covered
            if fb != run_fb and run:
                out.append(self._run("".join(run), run_fb))
                run = []
            run_fb = fb
            run.append(ch)
        if run:
            out.append(self._run("".join(run), run_fb))
        return "".join(out)

    def _run(self, s: str, fb: bool) -> str:
        return f'<font name="{self.fallback}">{escape(s)}</font>' if fb else escape(s)


def render_pdf(data: ReportData, out: Path) -> None:
    """Write the report for ``data`` to ``out`` (a .pdf path)."""
    _Pdf(data).build(out)


class _Pdf:
    def __init__(self, data: ReportData):
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm

        self.d = data
        self.thumbs = ThumbCache(data.images)
        self.f = _Fonts()
        self.pagesize = A4
        self.margin = 14 * mm
        self.width = A4[0] - 2 * self.margin
        f = self.f
        base = ParagraphStyle("base", fontName=f.regular, fontSize=9, leading=11.5)
        self.s = {
            "base": base,
            "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9),
            "tiny": ParagraphStyle("tiny", parent=base, fontSize=6.5, leading=8),
            "mono": ParagraphStyle("mono", parent=base, fontName=f.mono, fontSize=6.4, leading=8),
            "label": ParagraphStyle("label", parent=base, fontName=f.bold, fontSize=8.5, leading=10.5),
            "title": ParagraphStyle("title", parent=base, fontName=f.bold, fontSize=18, leading=22,
                                    spaceAfter=2),
            "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=9, leading=12,
                                       textColor="#555555", spaceAfter=8),
            "h1": ParagraphStyle("h1", parent=base, fontName=f.bold, fontSize=13.5, leading=17, spaceBefore=10,
                                 spaceAfter=5, textColor=SLATE),
            "h2": ParagraphStyle("h2", parent=base, fontName=f.bold, fontSize=10.5, leading=13, spaceBefore=8,
                                 spaceAfter=3),
            "warn": ParagraphStyle("warn", parent=base, fontName=f.bold, fontSize=9.5, leading=12,
                                   textColor=RED),
            "footer": ParagraphStyle("footer", parent=base, fontSize=7, leading=8.5),
            "boxhead": ParagraphStyle("boxhead", parent=base, fontName=f.bold, fontSize=11, leading=14),
        }
        self.mm = mm

    # -- helpers ---------------------------------------------------------------------------------
    def p(self, text, style: str = "base", raw: bool = False):
        from reportlab.platypus import Paragraph

        return Paragraph(text if raw else self.f.markup(text), self.s[style])

    def m(self, text) -> str:
        return self.f.markup(text)

    def image(self, sha: str, height: float):
        """A thumbnail flowable ``height`` points tall, or a grey 'unavailable' cell."""
        from reportlab.platypus import Image, Table, TableStyle

        t = self.thumbs.get(sha)
        if t is not None:
            return Image(io.BytesIO(t.jpeg), width=height * t.width / t.height, height=height)
        cell = Table([[self.p("image unavailable", "tiny")]], colWidths=[height / 2], rowHeights=[height])
        cell.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), "#dddddd"),
                                  ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return cell

    def kv(self, rows, label_width: float = 52):
        from reportlab.platypus import Table

        data = []
        for k, v in rows:
            style = "mono" if ("SHA-256" in k or "fingerprint" in k) else "base"
            data.append([self.p(k, "label"), self.p(v, style)])
        lw = label_width * self.mm
        t = Table(data, colWidths=[lw, self.width - lw])
        t.setStyle(self._grid())
        return t

    @staticmethod
    def _grid(header: bool = False):
        from reportlab.platypus import TableStyle

        cmds = [("GRID", (0, 0), (-1, -1), 0.4, "#c8c8c8"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]
        if header:
            cmds.append(("BACKGROUND", (0, 0), (-1, 0), "#eef1f4"))
        return TableStyle(cmds)

    def box(self, flowables, colour: str, background: str):
        from reportlab.platypus import Table, TableStyle

        t = Table([[f] for f in flowables], colWidths=[self.width])
        t.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.8, colour), ("BACKGROUND", (0, 0), (-1, -1), background),
                               ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                               ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
        return t

    def tiles(self, items, per_row: int, img_h: float):
        """A grid of image tiles: items are (sha, caption markup)."""
        from reportlab.platypus import Table, TableStyle

        cw = self.width / per_row
        cells = [[self.image(sha, img_h), self.p(caption, "small", raw=True)] for sha, caption in items]
        rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
        rows[-1] += [""] * (per_row - len(rows[-1]))
        t = Table(rows, colWidths=[cw] * per_row)
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                               ("BOX", (0, 0), (-1, -1), 0.4, "#c8c8c8"),
                               ("INNERGRID", (0, 0), (-1, -1), 0.4, "#e0e0e0")]))
        return t

    # -- the document -----------------------------------------------------------------------------
    def build(self, out: Path) -> None:
        from reportlab.platypus import PageBreak, SimpleDocTemplate

        d = self.d
        doc = SimpleDocTemplate(str(out), pagesize=self.pagesize, leftMargin=self.margin,
                                rightMargin=self.margin, topMargin=self.margin, bottomMargin=self.margin + 6,
                                title=f"Case report: {d.meta.get('title', '')}", author=d.meta.get("investigator", ""),
                                subject="interreid case report. " + PERSONAL_DATA_NOTICE, creator=d.software,
                                keywords=d.head_tag)
        story = self.first_page() + [PageBreak()] + self.interview() + self.final() + self.marks() + \
            self.audit() + self.appendix()
        doc.build(story, onFirstPage=self.footer, onLaterPages=self.footer)

    def footer(self, canvas, doc) -> None:
        d = self.d
        from reportlab.platypus import Paragraph

        canvas.saveState()
        y = self.margin - 4
        title = d.meta.get("title", "")
        if len(title) > 80:
            title = title[:78] + "…"
        text = self.m(f"{d.software} · case report · {title} · generated {fmt_ts(d.generated_at)}")
        para = Paragraph(f"<font color='#666666'>{text}</font>", self.s["footer"])
        _w, h = para.wrap(self.width - 50, 20)
        para.drawOn(canvas, self.margin, y - h + 7)
        canvas.setFont(self.f.regular, 7)
        canvas.setFillColor("#666666")
        canvas.drawRightString(self.pagesize[0] - self.margin, y, f"page {doc.page}")
        if not d.chain_ok:
            canvas.setFillColor(RED)
            canvas.setFont(self.f.bold, 7.5)
            canvas.drawString(self.margin, y - 9, "CASE FILE FAILED VERIFICATION — see page 1")
        canvas.restoreState()

    def first_page(self) -> list:
        from reportlab.platypus import Spacer, Table

        d = self.d
        out = [self.p("Case report", "title"), self.p(d.meta.get("title", ""), "h1"),
               self.p(f"Investigator {d.meta.get('investigator', '')} · case {d.meta.get('case_id', '')} · "
                      f"generated {fmt_ts(d.generated_at)} by {d.software}", "subtitle")]
        warnings = d.warnings()
        if warnings:
            out.append(self.box([self.p("WARNING", "boxhead")] + [self.p("• " + w, "warn") for w in warnings],
                                RED, "#fdecee"))
            out.append(Spacer(1, 6))
        if d.witness_views:
            rows = [[self.p("Image", "label"), self.p("Shown at / by", "label"),
                     self.p("Reason given / SHA-256", "label")]]
            for v in d.witness_views:
                rows.append([self.image(v["sha256"], 54),
                             self.p(f"{self.m(fmt_ts(v['at']))}<br/>{self.m(v.get('by', ''))}", "small", raw=True),
                             self.p(f"{self.m(v['note'])}<br/><font name='{self.f.mono}' size='6.4'>"
                                    f"{self.m(v['sha256'])}</font>", "small", raw=True)])
            t = Table(rows, colWidths=[20 * self.mm, 36 * self.mm, self.width - 56 * self.mm - 16])
            t.setStyle(self._grid(header=True))
            out.append(self.box([self.p(f"IMAGES SHOWN TO THE WITNESS ({len(d.witness_views)})", "boxhead"),
                                 self.p("Showing images to a witness can change what the witness remembers. "
                                        "Every image shown during this interview is listed here.", "small"), t]
                                + [self.p(line, "small") for line in d.shown_rank_lines()],
                                AMBER, "#fff6e5"))
            out.append(Spacer(1, 6))
        out.append(self.box([self.p(f"<b>Investigative leads, not identifications.</b> {self.m(LEADS_STATEMENT)}",
                                    raw=True)], SLATE, "#f1f4f7"))
        out += [self.p("Case", "h1"), self.kv(case_lines(d)),
                self.p("How the gallery was searched (engine and model pack)", "h1"), self.kv(engine_lines(d)),
                self.p("Gallery", "h1"), self.kv(gallery_lines(d)),
                self.p("Verification at export", "h1")]
        v = d.verification
        colour = "#1e7b34" if v["ok"] else RED
        out.append(self.p(f"<font color='{colour}'><b>Audit chain: {'intact' if v['chain_ok'] else 'BROKEN'} · "
                          f"overall: {d.overall}</b></font>", raw=True))
        out += [self.p(line, "small") for line in d.verification_lines]
        out += [self.p(d.head_line, "small"), self.p(PERSONAL_DATA_NOTICE, "small")]
        return out

    def interview(self) -> list:
        from reportlab.platypus import KeepTogether, Spacer, Table

        d = self.d
        out = [self.p("Interview", "h1"), self.p("Witness's initial description", "h2"),
               self.p(d.initial_description or "(no interview was started)")]
        if d.understood:
            from ..lite.parser import ANSWER_NOTE_LEGEND, STRENGTH_LEGEND
            from .html_report import MATCH_LEGEND, _answers_weighed

            out.append(self.p("What the software understood", "h2"))
            for u in d.understood:
                took = "; ".join(u["constraints"]) or "nothing it can search on"
                unused = f" — words not used: {', '.join(u['unused'])}" if u["unused"] else ""
                out.append(self.p(f"{u['who']}: {took}{unused}", "small"))
            out.append(self.p(STRENGTH_LEGEND, "small"))
            out.append(self.p(MATCH_LEGEND, "small"))
            if _answers_weighed(d.understood):
                out.append(self.p(ANSWER_NOTE_LEGEND, "small"))
        for s in d.sections:
            block = [self.p(f"Round {s.round}", "h2")]
            for cs in s.candidate_sets:
                label = "Candidates shown" + (" — <font color='#b00020'>UNDONE</font>" if cs.undone else "")
                block.append(self.p(label, "label", raw=True))
                items = [(c["sha256"], f"<b>rank {c['rank']}</b> · {_score(c)}<br/>"
                          f"<font name='{self.f.mono}' size='6'>{c['sha256'][:16]}…</font><br/>"
                          f"{self.m(plain_reasons(c['reasons']))}<br/><font size='5.5' color='#667788'>"
                          f"{self.m(c['reasons'])}</font>") for c in cs.items]
                block += [self.tiles(items, max(4, min(len(items), 6)), 66), Spacer(1, 3)]
            for q in s.skipped:
                block.append(self.p(f"Suggested question skipped by the investigator at {fmt_ts(q['at'])}: "
                                    f"{q['question']}",
                                    "small"))
            if not s.records:
                block.append(self.p("No question was answered in this round (the interview stopped here).",
                                    "small"))
            for r in s.records:
                edited = ("<br/><font color='#8a5200'><b>EDITED BY INVESTIGATOR</b> (differs from the suggested "
                          "question)</font>" if r.edited else "")
                detail = r.questioner + (f": {r.rationale}" if r.rationale else "") + \
                    (f" (attribute {r.attribute})" if r.attribute else "") + (f", top-k {r.k}" if r.k else "")
                head = (f"<font color='#b00020'>UNDONE</font> — round {r.round} as first answered; the "
                        "investigator undid it, so this answer is not part of the search" if r.undone
                        else f"Round {r.round}: question and answer")
                rows = [[self.p(head, "label", raw=True), ""],
                        [self.p("Question suggested by the software", "label"), self.p(r.suggested or "—")],
                        [self.p("Question asked", "label"), self.p(self.m(r.asked) + edited, raw=True)],
                        [self.p("Witness's answer", "label"), self.p(r.answer)],
                        [self.p("Suggested / answered at", "label"),
                         self.p(f"{fmt_ts(r.suggested_at) or '—'} / {fmt_ts(r.answered_at) or '—'}", "small")],
                        [self.p("Why this question was suggested", "label"),
                         self.p(f"{self.m(plain_rationale(r.rationale) or '—')}<br/><font size='6' color='#667788'>"
                                f"technical: {self.m(detail)}</font>", "small", raw=True)]]
                t = Table(rows, colWidths=[52 * self.mm, self.width - 52 * self.mm])
                style = self._grid()
                style.add("SPAN", (0, 0), (-1, 0))
                style.add("BACKGROUND", (0, 0), (-1, 0), "#eef1f4")
                if r.undone:
                    style.add("BACKGROUND", (0, 1), (-1, -1), "#eeeeee")
                elif r.edited:
                    style.add("BACKGROUND", (0, 2), (-1, 2), "#fff1b8")
                t.setStyle(style)
                block += [t, Spacer(1, 4)]
            out.append(KeepTogether(block))
        return out

    def final(self) -> list:
        from reportlab.platypus import KeepTogether

        f = self.d.final_ranking
        out = [self.p("Best-ranked images at the end of the interview", "h1")]
        if not f:
            return out + [self.p("No ranking was recorded.")]
        out.append(self.p(f"Top {len(f['items'])} of the last active ranking (after round {f['after_round']}), "
                          f"for the query: “{f['query']}”"))
        items = []
        for it in f["items"]:
            mark = self.d.marks.get(it["sha256"], {}).get("mark")
            items.append((it["sha256"], f"<b>rank {it['rank']}</b> · {_score(it)}"
                          + (f"<br/><font color='#b00020'>marked {mark}</font>" if mark else "")
                          + f"<br/><font name='{self.f.mono}' size='6'>{it['sha256'][:16]}…</font>"))
        out.append(self.tiles(items, 5, 80))
        return [KeepTogether(out)]

    def marks(self) -> list:
        from reportlab.platypus import Image, KeepTogether, Table

        d = self.d
        out = [self.p("Investigator's marks", "h1")]
        if not d.marks:
            out.append(self.p("No image is marked."))
        else:
            rows = [[self.p(h, "label") for h in ("Image", "Mark", "Note", "Marked at / SHA-256")]]
            for sha, mk in d.marks.items():
                rows.append([self.image(sha, 54), self.p(f"<b>{self.m(mk['mark'])}</b>", raw=True),
                             self.p(mk["note"]),
                             self.p(f"{self.m(fmt_ts(mk['at']))}<br/>"
                                    f"<font name='{self.f.mono}' size='6.2'>{sha}</font>",
                                    "small", raw=True)])
            t = Table(rows, colWidths=[20 * self.mm, 20 * self.mm, self.width - 132 * self.mm, 92 * self.mm])
            t.setStyle(self._grid(header=True))
            out.append(t)
            png = rank_chart_png(d.rank_history, d.marks, beyond=d.beyond_points(), kept=d.kept_top())
            if png:
                w = self.width
                out.append(KeepTogether([self.p("Rank over rounds", "h2"),
                                         Image(io.BytesIO(png), width=w, height=w * 3.2 / 7.0)]))
            out += [self.p(line, "small") for line in d.beyond_lines()]
        if len(d.mark_history) > len(d.marks):
            rows = [[self.p(h, "label") for h in ("At", "Image SHA-256", "Mark", "Note")]]
            for mk in d.mark_history:
                rows.append([self.p(fmt_ts(mk["at"]), "small"), self.p(mk["sha256"], "mono"),
                             self.p(mk["mark"], "small"),
                             self.p(mk["note"], "small")])
            t = Table(rows, colWidths=[30 * self.mm, 92 * self.mm, 18 * self.mm, self.width - 140 * self.mm],
                      repeatRows=1)
            t.setStyle(self._grid(header=True))
            out.append(KeepTogether([self.p("Mark history (every change, oldest first)", "h2"), t]))
        return out

    def audit(self) -> list:
        from reportlab.platypus import Table

        s = self.d.audit_summary
        out = [self.p("Record of every action (audit log)", "h1"),
               self.kv([("Rows", s["rows"]), ("First entry", fmt_ts(s["first"])), ("Last entry", fmt_ts(s["last"])),
                        ("Actors", ", ".join(s["actors"])), ("Chain head SHA-256 (last row)", s["head_hash"])]),
               self.p("Events by type", "h2")]
        from .words import event_label  # noqa: PLC0415

        rows = [[self.p("What happened", "label"), self.p("Rows", "label"), self.p("Technical name", "label")]] + \
            [[self.p(event_label(k), "small"), self.p(str(v), "small"), self.p(k, "small")]
             for k, v in s["events"].items()]
        t = Table(rows, colWidths=[80 * self.mm, 20 * self.mm, 60 * self.mm], hAlign="LEFT")
        t.setStyle(self._grid(header=True))
        out.append(t)
        if s["exports"]:
            rows = [[self.p(h, "label") for h in ("At", "Format", "SHA-256 / path")]]
            for x in s["exports"]:
                rows.append([self.p(fmt_ts(x.get("ts", "")), "small"), self.p(x.get("format", ""), "small"),
                             self.p(f"<font name='{self.f.mono}' size='6.2'>{self.m(x.get('sha256', ''))}</font><br/>"
                                    f"{self.m(x.get('path', ''))}", "small", raw=True)])
            t = Table(rows, colWidths=[34 * self.mm, 17 * self.mm, self.width - 51 * self.mm])  # "Format" whole
            t.setStyle(self._grid(header=True))
            out += [self.p("Earlier report exports", "h2"), t]
        return out

    def appendix(self) -> list:
        from reportlab.platypus import PageBreak, Table

        out = [PageBreak(), self.p("Evidence appendix: every image in this report", "h1"),
               self.p("Each image is identified by the SHA-256 of its file as imported; the status column gives "
                      "the result of re-hashing the file when this report was written.", "small"),
               self.p(self.d.VERIFY_HOW, "small")]
        rows = [[self.p(h, "label") for h in ("Image", "SHA-256 and source path(s)", "Camera", "Timestamp",
                                              "Status")]]
        for sha, info in self.d.images.items():
            status = {"ok": "hash verified", "altered": "<font color='#b00020'><b>ALTERED</b></font>",
                      "missing": "<font color='#b00020'><b>MISSING</b></font>"}.get(info.status, info.status)
            sources = "<br/>".join(self.m(x) for x in info.sources) or "—"
            if info.video:
                sources += "<br/>" + self.m(info.video_line())
            rows.append([self.image(sha, 40),
                         self.p(f"<font name='{self.f.mono}' size='6.4'>{sha}</font><br/>{sources}", "tiny",
                                raw=True),
                         self.p(info.camera or "—", "small"), self.p(info.timestamp or "—", "small"),
                         self.p(status, "small", raw=True)])
        t = Table(rows, colWidths=[15 * self.mm, 93 * self.mm, 17 * self.mm, 32 * self.mm,
                                   self.width - 157 * self.mm], repeatRows=1)
        t.setStyle(self._grid(header=True))
        out.append(t)
        if self.d.source_videos:
            out.append(self.p("Source videos", "h2"))
            vrows = [[self.p(h, "label") for h in ("Video and SHA-256", "Camera", "Clock of first frame",
                                                    "Clock from")]]
            for v in self.d.source_videos:
                vrows.append([self.p(f"{self.m(v['path'])}<br/><font name='{self.f.mono}' size='6.4'>"
                                     f"{v['sha256']}</font>", "tiny", raw=True),
                              self.p(str(v["camera"]), "small"), self.p(str(v["start_time"]), "small"),
                              self.p(str(v["time_from"]), "small")])
            vt = Table(vrows, colWidths=[93 * self.mm, 20 * self.mm, 35 * self.mm, self.width - 148 * self.mm],
                       repeatRows=1)
            vt.setStyle(self._grid(header=True))
            out.append(vt)
        return out


def _score(item: dict) -> str:
    """The match percentage when known (see the legend), else the raw score."""
    return f"match {item['match']:.0f}%" if "match" in item else f"score {item['score']:.4f}"
