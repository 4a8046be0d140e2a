"""The case report as one self-contained HTML file (inline CSS, images as data: URIs, no scripts)."""

from __future__ import annotations

import base64
from html import escape

from .chart import rank_chart_png
from .data import (LEADS_STATEMENT, PERSONAL_DATA_NOTICE, ReportData, case_lines, engine_lines, fmt_ts,
                   gallery_lines)
from .thumbs import ThumbCache
from .words import event_label, plain_rationale, plain_reasons

CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;font-size:13px;color:#1b1b1b;max-width:1000px;
 margin:24px auto;padding:0 16px;line-height:1.4}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;border-bottom:2px solid #2c3e50;padding-bottom:3px;
 margin-top:28px}h3{font-size:14px;margin:18px 0 6px}
.sub{color:#555;margin-bottom:14px}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{border:1px solid #c8c8c8;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef1f4}
table.kv th{width:30%;font-weight:600}
.tech{color:#667;font-size:10px}.mono{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:11px;word-break:break-all}
.box{border:2px solid;padding:8px 12px;margin:10px 0;border-radius:3px}
.warn{border-color:#b00020;background:#fdecee}.warn h3{color:#b00020;margin-top:0}
.witness{border-color:#c77700;background:#fff6e5}.witness h3{color:#8a5200;margin-top:0}
.leads{border-color:#2c3e50;background:#f1f4f7}
.ok{color:#1e7b34;font-weight:600}.bad{color:#b00020;font-weight:600}
.edited{background:#fff1b8;border:1px solid #c9a400;padding:0 4px;font-weight:600;font-size:11px}
.undone{background:#e0e0e0;border:1px solid #888;padding:0 4px;font-weight:600;font-size:11px}
table.undone-round td{background:#eeeeee;color:#444}
.cands{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}
.cand{border:1px solid #c8c8c8;padding:4px;width:170px;font-size:11px;background:#fafafa}
.cand img,.thumb img{height:110px;display:block;margin:0 auto 3px}
.na{height:110px;width:55px;display:flex;align-items:center;justify-content:center;margin:0 auto 3px;
 background:#ddd;color:#555;font-size:10px;text-align:center}
.thumb img{height:64px}.thumb .na{height:64px;width:32px}
.chart img{max-width:100%}
footer{margin-top:30px;color:#666;font-size:11px;border-top:1px solid #ccc;padding-top:6px}
"""


def render_html(data: ReportData) -> str:
    thumbs = ThumbCache(data.images)
    h = _Html(data, thumbs)
    return h.render()


def _e(value) -> str:
    return escape("" if value is None else str(value))


class _Html:
    def __init__(self, data: ReportData, thumbs: ThumbCache):
        self.d = data
        self.thumbs = thumbs
        self.out: list[str] = []

    def w(self, *parts: str) -> None:
        self.out.extend(parts)

    def img(self, sha: str, cls: str = "") -> str:
        t = self.thumbs.get(sha)
        if t is None:
            return '<div class="na">image unavailable</div>'
        uri = "data:image/jpeg;base64," + base64.b64encode(t.jpeg).decode("ascii")
        return f'<img src="{uri}" alt="image {_e(sha[:12])}">'

    def kv(self, rows) -> None:
        self.w('<table class="kv">')
        for k, v in rows:
            cls = ' class="mono"' if "SHA-256" in k or "fingerprint" in k else ""
            self.w(f"<tr><th>{_e(k)}</th><td{cls}>{_e(v)}</td></tr>")
        self.w("</table>")

    def render(self) -> str:
        d = self.d
        title = d.meta.get("title", "")
        self.w("<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
               '<meta name="viewport" content="width=device-width, initial-scale=1">',
               f'<meta name="interreid-case-head" content="{_e(d.head_tag)}">',
               f"<title>Case report: {_e(title)}</title><style>{CSS}</style></head><body>")
        self.w(f"<h1>Case report: {_e(title)}</h1>",
               f'<div class="sub">Investigator {_e(d.meta.get("investigator"))} · case {_e(d.meta.get("case_id"))}'
               f" · generated {_e(fmt_ts(d.generated_at))} by {_e(d.software)}</div>")
        self.first_page()
        self.interview()
        self.final()
        self.marks()
        self.audit()
        self.appendix()
        self.w(f"<footer>{_e(d.software)} case report · {_e(title)} · generated {_e(d.generated_at)}. "
               "This file's SHA-256 is recorded in the case's audit log and in the .sha256 file beside it. "
               + _e(PERSONAL_DATA_NOTICE) +
               "</footer></body></html>")
        return "\n".join(self.out)

    # -- first page ---------------------------------------------------------------------------
    def first_page(self) -> None:
        d = self.d
        warnings = d.warnings()
        if warnings:
            self.w('<section class="box warn" id="warnings"><h3>WARNING</h3><ul>')
            self.w(*[f"<li>{_e(x)}</li>" for x in warnings])
            self.w("</ul></section>")
        if d.witness_views:
            self.w('<section class="box witness" id="witness-views">',
                   f"<h3>IMAGES SHOWN TO THE WITNESS ({len(d.witness_views)})</h3>",
                   "<p>Showing images to a witness can change what the witness remembers. Every image shown "
                   "during this interview is listed here.</p>",
                   "<table><tr><th>Image</th><th>Shown at</th><th>Shown by</th><th>Reason given</th>"
                   "<th>SHA-256</th></tr>")
            for v in d.witness_views:
                self.w(f'<tr><td class="thumb">{self.img(v["sha256"])}</td><td>{_e(fmt_ts(v["at"]))}</td>'
                       f'<td>{_e(v.get("by", ""))}</td><td>{_e(v["note"])}</td>'
                       f'<td class="mono">{_e(v["sha256"])}</td></tr>')
            self.w("</table>")
            for line in d.shown_rank_lines():
                self.w(f'<p class="small shown-rank">{_e(line)}</p>')
            self.w("</section>")
        self.w(f'<section class="box leads" id="leads"><strong>Investigative leads, not identifications.'
               f"</strong> {_e(LEADS_STATEMENT)}</section>")
        self.w("<h2>Case</h2>")
        self.kv(case_lines(d))
        self.w("<h2>How the gallery was searched (engine and model pack)</h2>")
        self.kv(engine_lines(d))
        self.w("<h2>Gallery</h2>")
        self.kv(gallery_lines(d))
        self.w('<h2>Verification at export</h2><p id="verification">')
        v = d.verification
        self.w(f'<span class="{"ok" if v["chain_ok"] else "bad"}">Audit chain: '
               f'{"intact" if v["chain_ok"] else "BROKEN"}</span> · '
               f'<span class="{"ok" if v["ok"] else "bad"}">Overall: '
               f'{d.overall}</span></p>')
        self.w('<pre class="mono">' + _e("\n".join(d.verification_lines)) + "</pre>")
        self.w(f'<p class="small" id="head">{_e(d.head_line)}</p><p class="small">{_e(PERSONAL_DATA_NOTICE)}</p>')

    # -- interview -----------------------------------------------------------------------------
    def interview(self) -> None:
        d = self.d
        self.w('<h2 id="interview">Interview</h2>', "<h3>Witness's initial description</h3>",
               f"<p>{_e(d.initial_description) or '<em>(no interview was started)</em>'}</p>")
        if d.understood:
            self.w("<h3>What the software understood</h3>", '<table class="kv">')
            for u in d.understood:
                took = "; ".join(u["constraints"]) or "nothing it can search on"
                unused = f" — words not used: {_e(', '.join(u['unused']))}" if u["unused"] else ""
                self.w(f"<tr><th>{_e(u['who'])}</th><td>{_e(took)}{unused}</td></tr>")
            from ..lite.parser import STRENGTH_LEGEND  # noqa: PLC0415

            self.w("</table>", f"<p>{_e(STRENGTH_LEGEND)}</p>", f"<p>{_e(MATCH_LEGEND)}</p>")
            if _answers_weighed(d.understood):
                from ..lite.parser import ANSWER_NOTE_LEGEND  # noqa: PLC0415

                self.w(f"<p>{_e(ANSWER_NOTE_LEGEND)}</p>")
        for s in d.sections:
            self.w(f'<div class="round" id="round-{s.round}"><h3>Round {s.round}</h3>')
            for cs in s.candidate_sets:
                label = "Candidates shown" + (' <span class="undone">UNDONE</span>' if cs.undone else "")
                self.w(f"<p><strong>{label}</strong></p>", '<div class="cands">')
                for c in cs.items:
                    self.w(f'<div class="cand">{self.img(c["sha256"])}<strong>rank {c["rank"]}</strong> · '
                           f'{_score(c)}<br><span class="mono">{_e(c["sha256"][:16])}…</span><br>'
                           f'{_e(plain_reasons(c["reasons"]))}'
                           f'<br><span class="tech">{_e(c["reasons"])}</span></div>')
                self.w("</div>")
            for q in s.skipped:
                self.w(f"<p>Suggested question skipped by the investigator at {_e(fmt_ts(q['at']))}: "
                       f"<em>{_e(q['question'])}</em></p>")
            if not s.records:
                self.w("<p><em>No question was answered in this round (the interview stopped here).</em></p>")
            for r in s.records:
                edited = ' <span class="edited">EDITED BY INVESTIGATOR</span>' if r.edited else ""
                head = (f'<span class="undone">UNDONE</span> round {r.round} as first answered; the investigator '
                        "undid it, so this answer is not part of the search" if r.undone
                        else f"Round {r.round}: question and answer")
                self.w(f'<table class="kv{" undone-round" if r.undone else ""}">',
                       f'<tr><th colspan="2">{head}</th></tr>',
                       f"<tr><th>Question suggested by the software</th><td>{_e(r.suggested) or '—'}</td></tr>",
                       f"<tr><th>Question asked{edited}</th><td>{_e(r.asked)}</td></tr>",
                       f"<tr><th>Witness's answer</th><td>{_e(r.answer)}</td></tr>",
                       f"<tr><th>Suggested / answered at</th><td>{_e(fmt_ts(r.suggested_at)) or '—'} / "
                       f"{_e(fmt_ts(r.answered_at)) or '—'}</td></tr>",
                       f"<tr><th>Why this question was suggested</th><td>"
                       f"{_e(plain_rationale(r.rationale)) if r.rationale else '—'}<br><span class='tech'>"
                       f"technical: {_e(r.questioner)}{(': ' + _e(r.rationale)) if r.rationale else ''}"
                       f"{(' (attribute ' + _e(r.attribute) + ')') if r.attribute else ''}"
                       f"{(', top-k ' + str(r.k)) if r.k else ''}</span></td></tr>", "</table>")
            self.w("</div>")

    def final(self) -> None:
        f = self.d.final_ranking
        self.w('<h2 id="final">Best-ranked images at the end of the interview</h2>')
        if not f:
            self.w("<p>No ranking was recorded.</p>")
            return
        self.w(f"<p>Top {len(f['items'])} of the last active ranking (after round {f['after_round']}), for the "
               f"query: <em>{_e(f['query'])}</em></p>", '<div class="cands">')
        for it in f["items"]:
            mark = self.d.marks.get(it["sha256"], {}).get("mark")
            self.w(f'<div class="cand">{self.img(it["sha256"])}<strong>rank {it["rank"]}</strong> · '
                   f'{_score(it)}{(" · marked " + _e(mark)) if mark else ""}<br>'
                   f'<span class="mono">{_e(it["sha256"][:16])}…</span></div>')
        self.w("</div>")

    def marks(self) -> None:
        d = self.d
        self.w('<h2 id="marks">Investigator\'s marks</h2>')
        if not d.marks:
            self.w("<p>No image is marked.</p>")
        else:
            self.w("<table><tr><th>Image</th><th>Mark</th><th>Note</th><th>Marked at</th><th>SHA-256</th></tr>")
            for sha, m in d.marks.items():
                self.w(f'<tr><td class="thumb">{self.img(sha)}</td><td><strong>{_e(m["mark"])}</strong></td>'
                       f'<td>{_e(m["note"])}</td><td>{_e(fmt_ts(m["at"]))}</td><td class="mono">{_e(sha)}</td></tr>')
            self.w("</table>")
            png = rank_chart_png(d.rank_history, d.marks, beyond=d.beyond_points(), kept=d.kept_top())
            if png:
                uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                self.w(f'<div class="chart"><img src="{uri}" alt="rank of the marked images over the rounds">'
                       "</div>")
            for line in d.beyond_lines():
                self.w(f'<p class="small beyond">{_e(line)}</p>')
        if len(d.mark_history) > len(d.marks):
            self.w("<h3>Mark history (every change, oldest first)</h3>",
                   "<table><tr><th>At</th><th>Image</th><th>Mark</th><th>Note</th></tr>")
            for m in d.mark_history:
                self.w(f'<tr><td>{_e(fmt_ts(m["at"]))}</td><td class="mono">{_e(m["sha256"])}</td>'
                       f'<td>{_e(m["mark"])}</td><td>{_e(m["note"])}</td></tr>')
            self.w("</table>")

    def audit(self) -> None:
        s = self.d.audit_summary
        self.w('<h2 id="audit">Record of every action (audit log)</h2>')
        self.kv([("Rows", s["rows"]), ("First entry", fmt_ts(s["first"])), ("Last entry", fmt_ts(s["last"])),
                 ("Actors", ", ".join(s["actors"])), ("Chain head (last row hash)", s["head_hash"])])
        self.w("<table><tr><th>What happened</th><th>Rows</th><th>Technical name</th></tr>")
        self.w(*[f'<tr><td>{_e(event_label(k))}</td><td>{v}</td><td class="mono">{_e(k)}</td></tr>'
                 for k, v in s["events"].items()])
        self.w("</table>")
        if s["exports"]:
            self.w("<h3>Earlier report exports</h3><table><tr><th>At</th><th>Format</th><th>SHA-256</th>"
                   "<th>Path</th></tr>")
            for x in s["exports"]:
                self.w(f'<tr><td>{_e(fmt_ts(x.get("ts")))}</td><td>{_e(x.get("format"))}</td>'
                       f'<td class="mono">{_e(x.get("sha256"))}</td><td>{_e(x.get("path"))}</td></tr>')
            self.w("</table>")

    def appendix(self) -> None:
        self.w('<h2 id="evidence">Evidence appendix: every image in this report</h2>',
               f'<p class="small" id="verify-how">{_e(self.d.VERIFY_HOW)}</p>',
               "<table><tr><th>Image</th><th>SHA-256</th><th>Source path(s)</th><th>Camera</th>"
               "<th>Timestamp</th><th>Status at export</th></tr>")
        for sha, info in self.d.images.items():
            status = {"ok": "hash verified", "altered": "ALTERED", "missing": "MISSING"}.get(info.status,
                                                                                            info.status)
            self.w(f'<tr><td class="thumb">{self.img(sha)}</td><td class="mono">{_e(sha)}</td>'
                   f'<td class="mono">{"<br>".join(_e(p) for p in info.sources) or "—"}'
                   f'{"<br>" + _e(info.video_line()) if info.video else ""}</td>'
                   f'<td>{_e(info.camera) or "—"}</td><td>{_e(info.timestamp) or "—"}</td>'
                   f'<td>{_e(status)}</td></tr>')
        self.w("</table>")
        if self.d.source_videos:
            self.w('<h3 id="videos">Source videos</h3><p>The crops above marked "cut from video" are exact '
                   "pixels of these files (cropped, stored losslessly); each file is identified by its SHA-256.</p>"
                   "<table><tr><th>Video</th><th>SHA-256</th><th>Camera</th><th>Clock of first frame</th>"
                   "<th>Clock taken from</th><th>Frames</th></tr>")
            for v in self.d.source_videos:
                self.w(f'<tr><td class="mono">{_e(v["path"])}</td><td class="mono">{_e(v["sha256"])}</td>'
                       f'<td>{_e(v["camera"])}</td><td>{_e(v["start_time"])}</td><td>{_e(v["time_from"])}</td>'
                       f'<td>{_e(v["frames_decoded"])}</td></tr>')
            self.w("</table>")


def _answers_weighed(understood: list[dict]) -> bool:
    """Whether any constraint shown says how much an answer counted ("answer weighed 23%")."""
    return any("answer weighed" in c for u in understood for c in u["constraints"])


MATCH_LEGEND = ("Match: how well an image fits what the witness said, relative to the best-fitting image of "
                "the same search (100%). 50% means half as likely as the best image to be the person described. "
                "It compares images within one search; it is not the probability that an image shows the person.")


def _score(item: dict) -> str:
    """A match percentage with a small bar when known, else the raw score."""
    if "match" in item:
        pct = max(0.0, min(100.0, item["match"]))
        return (f'match {pct:.0f}% <span style="display:inline-block;width:40px;height:6px;background:#ddd">'
                f'<span style="display:inline-block;width:{0.4 * pct:.0f}px;height:6px;background:#2a6">'
                "</span></span>")
    return f'score {item["score"]:.4f}'
