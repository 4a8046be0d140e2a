"""Everything a case report shows, read from a case file (and its gallery, when it is still there).

:func:`collect` returns a :class:`ReportData`: plain values only, so the PDF and HTML writers
format the same facts the same way and neither touches the database.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import APP_NAME, __version__
from ..casefile.anchors import head_tag
from ..clock import utc_now

PERSONAL_DATA_NOTICE = ("This report holds personal data (a witness's statements and images of members of the "
                        "public): store, share and destroy it as the rules for personal data require.")

FINAL_TOP = 10
LEADS_STATEMENT = (
    "Rankings, match scores, candidate selections and suggested questions in this report are produced by "
    "software. They are investigative leads only, not identifications: every image must be assessed by a "
    "person, and no one may be identified on the strength of a rank or a score.")
RANDOM_WEIGHTS_WARNING = "random weights — untrained, for testing only"


@dataclass
class ImageInfo:
    """One gallery image that appears somewhere in the report."""

    sha256: str
    row: int | None
    sources: list[str]
    camera: str | None = None
    timestamp: str | None = None
    thumb: Path | None = None  # a readable thumbnail (or original) file, or None when unavailable
    status: str = "ok"  # ok | altered | missing (at export time)
    video: dict | None = None  # provenance of a crop cut from video (engine/video/query.crop_provenance)

    def video_line(self) -> str:
        """One line naming the crop's source video, its SHA-256, frame, time and box; '' for image files."""
        return video_provenance_line(self.video) if self.video else ""


def video_provenance_line(v: dict) -> str:
    x, y, w, h = v["bbox"]
    return (f"cut from video {v['video_path']} (SHA-256 {v['video_sha256']}), frame {v['frame']} "
            f"(at {v['pts']:.3f} s), time {v.get('time') or 'unknown'}, box x {x} y {y} w {w} h {h} px, "
            f"person track {v['track']}")


@dataclass
class CandidateSet:
    round: int
    undone: bool
    items: list[dict]  # position, sha256, gallery_row, rank, score, reasons


@dataclass
class RoundRecord:
    """One answered question (active or undone)."""

    round: int
    undone: bool
    suggested: str
    asked: str
    answer: str
    edited: bool
    questioner: str
    rationale: str
    attribute: str
    k: int | None
    suggested_at: str
    answered_at: str


@dataclass
class RoundSection:
    """What happened at one round number: the candidates shown, the questions asked (and undone)."""

    round: int
    candidate_sets: list[CandidateSet] = field(default_factory=list)
    records: list[RoundRecord] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {question, at}


@dataclass
class ReportData:
    generated_at: str
    software: str
    case_path: str
    meta: dict
    engine: dict
    pack: dict | None
    random_weights: bool
    gallery_available: bool
    gallery_note: str
    initial_description: str
    sections: list[RoundSection]
    final_ranking: dict | None  # after_round, query, items [{rank, sha256, score, row}]
    marks: dict[str, dict]
    mark_history: list[dict]
    witness_views: list[dict]
    rank_history: dict[str, list[tuple[int, int]]]  # marked sha -> [(after_round, rank)]
    verification: dict
    verification_lines: list[str]
    audit_summary: dict
    images: dict[str, ImageInfo]  # in order of first appearance
    source_videos: list[dict] = field(default_factory=list)  # videos the shown crops were cut from
    head: dict = field(default_factory=dict)  # {"seq", "hash"}: the audit log's last row at export
    #: marked sha -> [(after_round, N, counted rank or None, how it was counted)] for the rounds where it
    #: ranked below the top N the case keeps; the rank is None where the case holds no counted rank
    #: (cases made before format 4)
    rank_beyond: dict[str, list[tuple[int, int, int | None, str]]] = field(default_factory=dict)
    head_tag: str = ""  # machine-readable head (``case verify --report`` reads it back)
    #: shown sha -> [(after_round, rank, N)]: the counted rank of each image shown to the witness, per round
    shown_ranks: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)

    def beyond_lines(self) -> list[str]:
        """One sentence per marked image that fell below the kept top N in some round: its counted rank
        there (an open point below the chart's dashed line), or that the chart has no point there."""
        out = []
        searched = str(self.meta.get("gallery_images", ""))
        among = (f"among all {int(searched):,} images the case searched" if searched.isdigit()
                 else "among all the images the case searched")
        for sha, items in self.rank_beyond.items():
            mark = self.marks.get(sha, {}).get("mark", "marked")
            counted = [(a, n, r, how) for a, n, r, how in items if r is not None]
            missing = [(a, n) for a, n, r, _how in items if r is None]
            if counted:
                where = _and([f"{r:,} {_after(a)}" for a, _n, r, _how in counted])
                depth = max(n for _a, n, _r, _h in counted)
                later = any(how == "later" for *_x, how in counted)
                how = (" (for rounds before it was marked or shown, by scoring that round's recorded search again)"
                       if later else "")
                out.append(f"Image {sha[:12]}… ({mark}) ranked below the {depth:,} best-ranked images the case keeps: "
                           f"it was at rank {where}, counted {among} and stored in the case{how}; the chart shows "
                           "these points as open circles below the dashed line.")
            if missing:
                why = ("it was marked after that round and its rank has not been counted yet: continuing the "
                       "interview in interreid counts it" if _format(self.meta) >= 4
                       else "the case was made by an earlier interreid, which did not store such ranks")
                rounds = _and(["the initial description" if a == 0 else f"answer {a}" for a, _n in missing])
                depth = max(n for _a, n in missing)
                which = "ranking" if len(missing) == 1 else "rankings"
                out.append(f"Image {sha[:12]}… ({mark}) ranked below the {depth:,} best-ranked images the case "
                           f"keeps, in the {which} after {rounds}; the case holds no counted rank for it there "
                           f"({why}), so the chart has no point there.")
        return out

    def beyond_points(self) -> dict[str, set[int]]:
        """marked sha -> the rounds whose chart point lies below the kept top N (drawn open)."""
        return {sha: {a for a, _n, r, _h in items if r is not None} for sha, items in self.rank_beyond.items()}

    def kept_top(self) -> int | None:
        """The N of "the top N the case keeps" where some marked image fell below it, else None."""
        depths = [n for items in self.rank_beyond.values() for _a, n, r, _h in items if r is not None]
        return max(depths) if depths else None

    def shown_rank_lines(self) -> list[str]:
        """One sentence per image shown to the witness: its rank in each round, as the case recorded it."""
        out = []
        for sha, items in self.shown_ranks.items():
            parts = [f"{r:,} {_after(a)}" + (f" (below the {n:,} the case keeps)" if r > n else "")
                     for a, r, n in items]
            out.append(f"Image {sha[:12]}… was at rank {_and(parts)}.")
        return out

    @property
    def head_line(self) -> str:
        if not self.head:
            return "The case's audit log is empty."
        return (f"When this report was made, the case's audit log ended at entry {self.head['seq']} "
                f"(fingerprint {self.head['hash']}). Anyone holding the case file can check that it still holds "
                "everything recorded up to that entry: the appendix says how.")

    #: the technical instruction behind ``head_line`` and ``_capped`` (printed in the report's appendix)
    VERIFY_HOW = ("How to check this report against its case file: on a workstation with interreid installed, run "
                  "'interreid case verify CASE-FILE --report THIS-REPORT'. It re-checks the audit log's chain and "
                  "signatures, re-hashes every gallery image the case searched, lists every problem found, and "
                  "confirms that the case still holds the audit entry this report names.")
    #: what the software understood from each statement (lite engine): {"who", "said", "constraints", "unused"}
    understood: list[dict] = field(default_factory=list)

    @property
    def chain_ok(self) -> bool:
        return bool(self.verification.get("chain_ok"))

    @property
    def overall(self) -> str:
        """The verification's outcome in a few words: a gallery that could not be checked is not a failure."""
        v = self.verification
        if v.get("ok"):
            return "nothing altered"
        if v.get("chain_ok") and not (v.get("altered_images") or v.get("missing_images")
                                      or v.get("gallery_problems")):
            return "GALLERY NOT CHECKED"
        return "FAILED VERIFICATION"

    def warnings(self) -> list[str]:
        """The problems a reader must see first, most serious first."""
        v = self.verification
        out = []
        if not v.get("chain_ok"):
            problems = (v.get("chain_problems", []) + v.get("signature_problems", []) + v.get("anchor_problems", [])
                        + v.get("data_problems", []))
            if len(problems) > 12:
                problems = problems[:12] + [f"and {len(problems) - 12} more (see 'Verification at export')"]
            out.append("THE CASE FILE FAILED VERIFICATION: its audit log chain is broken or its records were "
                       "changed outside the software. The contents below may not be what was recorded. "
                       "Problems found: " + "; ".join(problems) + ".")
        if v.get("gallery_problems"):
            out.append("The gallery this case searched has changed since the case recorded it (the case file itself "
                       "is intact): " + "; ".join(v["gallery_problems"]) + ".")
        if v.get("unchecked"):
            out.append("The gallery images this case searched could not be checked when this report was written (no "
                       "sign that anything was altered): " + "; ".join(v["unchecked"]) + ". Verify the case where its "
                       "gallery is: 'interreid case verify CASE-FILE'.")
        if v.get("altered_images"):
            out.append(f"{len(v['altered_images'])} gallery image(s) no longer match the SHA-256 recorded at "
                       "import (altered): " + ", ".join(d["path"] for d in v["altered_images"][:10]) + ".")
        if v.get("missing_images"):
            out.append(f"{len(v['missing_images'])} gallery image(s) are missing from disk: "
                       + ", ".join(d["path"] for d in v["missing_images"][:10])
                       + (" …" if len(v["missing_images"]) > 10 else "") + ".")
        if self.random_weights:
            out.append(f"The model pack has {RANDOM_WEIGHTS_WARNING}: its rankings and questions are meaningless.")
        if not self.gallery_available:
            out.append(self.gallery_note)
        return out


def collect(case) -> ReportData:
    """Read everything the report shows from an open :class:`CaseFile`."""
    from ..casefile.case import InterviewRecords

    meta = case.metadata()
    engine = meta.get("engine") or {}
    pack = engine.get("pack") if isinstance(engine, dict) else None
    rec = InterviewRecords(case)
    verification = case.verify()
    entries = case.audit_entries()

    sections = _sections(case, rec, entries)
    rankings = rec.rankings()
    marks = case.current_marks()
    sha_of_row, source_of = _rows_of_report(case, meta, rankings, marks)
    final = None
    if rankings:
        last = rankings[-1]
        if not sha_of_row:  # the gallery is gone: the hashes of the best rows its audit entry kept
            saved = [e.params for e in entries if e.event == "ranking.saved" and isinstance(e.params, dict)
                     and e.params.get("after_round") == last["after_round"]]
            kept = saved[-1].get("top_sha256", []) if saved else []
            sha_of_row = {int(r): s for r, s in zip(last["rows"], kept)}
        items = []
        for i, (row, score) in enumerate(zip(last["rows"][:FINAL_TOP], last["scores"][:FINAL_TOP]), start=1):
            items.append({"rank": i, "row": int(row), "sha256": sha_of_row.get(int(row), ""), "score": float(score)})
        from ..interview.query import readable_query

        final = {"after_round": last["after_round"], "query": readable_query(last["query"]), "items": items}
        _add_match(final["items"], float(last["scores"][0]) if len(last["scores"]) else 0.0, engine)
    best_of_round = {int(r["after_round"]): float(r["scores"][0]) for r in rankings if len(r["scores"])}
    for s in sections:
        for cs in s.candidate_sets:
            if cs.round - 1 in best_of_round:
                _add_match(cs.items, best_of_round[cs.round - 1], engine)

    mark_history = [dict(zip(("sha256", "mark", "note", "at"), r)) for r in case.conn.execute(
        "SELECT sha256, mark, note, at FROM marks ORDER BY id")]
    views = case.witness_views()
    # who showed each image: the actor of its audit entry (one "shown_to_witness" entry per view, in order)
    shown_by = [e.actor for e in entries if e.event == "shown_to_witness"]
    for i, v in enumerate(views):
        v["by"] = shown_by[i] if i < len(shown_by) else ""
    # the counted rank of each marked and shown image per round (format 4): also below the kept top N
    counted = {(p["ranking_id"], p["sha256"]): p for p in rec.rank_points()}
    row_of_sha = {p["sha256"]: int(p["gallery_row"]) for p in counted.values()}
    rank_history = {}
    rank_beyond: dict[str, list[tuple[int, int, int | None, str]]] = {}
    for sha in marks:
        row = row_of_sha.get(sha, next((idx for idx, s in sha_of_row.items() if s == sha), None))
        points = []
        for r in rankings:
            if row is None:
                continue
            hit = (r["rows"] == row).nonzero()[0]
            if len(hit):
                points.append((int(r["after_round"]), int(hit[0]) + 1))
                continue
            point = counted.get((r["id"], sha))  # below the top N the case keeps for that round
            if point is not None:
                points.append((int(r["after_round"]), int(point["rank"])))
            rank_beyond.setdefault(sha, []).append((int(r["after_round"]), len(r["rows"]),
                                                    None if point is None else int(point["rank"]),
                                                    "" if point is None else str(point["counted"])))
        rank_history[sha] = points
    shown_ranks: dict[str, list[tuple[int, int, int]]] = {}
    for v in views:
        if v["sha256"] in shown_ranks:
            continue
        items = [(int(r["after_round"]), int(counted[(r["id"], v["sha256"])]["rank"]), len(r["rows"]))
                 for r in rankings if (r["id"], v["sha256"]) in counted]
        if items:
            shown_ranks[v["sha256"]] = items

    # every image the report shows, in order of first appearance
    order: list[str] = [v["sha256"] for v in views]
    for s in sections:
        for cs in s.candidate_sets:
            order += [c["sha256"] for c in cs.items]
    if final:
        order += [it["sha256"] for it in final["items"]]
    order += list(marks) + [m["sha256"] for m in mark_history]
    status = {d["sha256"]: "altered" for d in verification.altered_images}
    status.update({d["sha256"]: "missing" for d in verification.missing_images})
    gallery_available, gallery_note, images = _images(meta, [s for s in dict.fromkeys(order) if s],
                                                      source_of, status)

    return ReportData(
        generated_at=utc_now(), software=f"{APP_NAME} {__version__}", case_path=str(case.path), meta=meta,
        engine=engine if isinstance(engine, dict) else {}, pack=pack,
        random_weights=bool(pack and pack.get("weights") == "random"),
        gallery_available=gallery_available, gallery_note=gallery_note,
        initial_description=meta.get("initial_description", ""), sections=sections, final_ranking=final,
        marks=marks, mark_history=mark_history, witness_views=views, rank_history=rank_history,
        rank_beyond=rank_beyond, shown_ranks=shown_ranks,
        verification=verification.as_dict(), verification_lines=_capped(verification.lines()),
        audit_summary=_audit_summary(entries), images=images, source_videos=_source_videos(meta, images),
        head=verification.head,
        head_tag=head_tag(meta.get("case_id", ""), verification.head["seq"], verification.head["hash"])
        if verification.head and meta.get("case_id") else "",
        understood=_understood(engine, meta.get("initial_description", ""), sections, meta))


def _format(meta: dict) -> int:
    try:
        return int(meta.get("schema_version") or 0)
    except (TypeError, ValueError):
        return 0


def _rows_of_report(case, meta: dict, rankings: list[dict], marks: dict) -> tuple[dict[int, str], dict[str, str]]:
    """({row: sha256}, {sha256: first source}) of the rows the report names: the final ranking's best rows
    and the marked images. A case with its own image list (formats 1-2) reads that list; a case citing the
    gallery manifest (format 3 on) reads only those rows from its gallery, never the whole list. Empty when
    the gallery is gone (verification says so; marked and shown images keep their hashes)."""
    from ..errors import GalleryError

    held = case.held_rows()
    if held is None:
        snapshot = case.gallery_snapshot()
        return {idx: sha for idx, sha, _src in snapshot}, {sha: src for _idx, sha, src in snapshot}
    from ..gallery.store import Gallery

    top = [int(r) for r in rankings[-1]["rows"][:FINAL_TOP]] if rankings else []
    try:
        with Gallery.open(meta.get("gallery_path") or "", read_only=True) as gallery:
            sha_of_row = gallery.shas_of_rows([r for r in top if r < held])
            sha_of_row.update({row: sha for sha, row in gallery.rows_of_shas(list(marks)).items() if row < held})
    except GalleryError:
        return {}, {}
    return sha_of_row, {}  # sources: read per image from the gallery (_images)


def _after(after_round: int) -> str:
    return "in the initial ranking" if after_round == 0 else f"after answer {after_round}"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _temperature(engine) -> float | None:
    kind = engine.get("kind") if isinstance(engine, dict) else None
    if kind == "lite":
        from ..lite.calibration import TEMPERATURE

        return TEMPERATURE
    return None


def _add_match(items: list[dict], best: float, engine) -> None:
    """Each item's match percentage relative to the best image of its ranking (lite engine only)."""
    from ..retriever import relative_match

    temperature = _temperature(engine)
    if temperature is None:
        return
    for it in items:
        it["match"] = float(relative_match(it["score"], best, temperature))


def _understood(engine, initial: str, sections, case_meta: dict | None = None) -> list[dict]:
    """What the lite engine took from the description and each active answer (empty for other engines), read
    as the interview read it (``interview.understood``); a constraint the investigator removed is kept and
    said so."""
    if _temperature(engine) is None or not initial:
        return []
    from ..interview.protocols import Turn
    from ..interview.understood import understood_statements
    from ..lite.retriever import LiteRetriever

    corrections = json.loads((case_meta or {}).get("corrections") or "[]")
    active = [rec for s in sections for rec in s.records if not rec.undone]
    dialogue = [Turn(rec.asked, rec.answer, rec.attribute or None) for rec in active]
    out = []
    for u in understood_statements(LiteRetriever(), initial, dialogue, corrections):
        if u["round"] == 0:
            who = "Initial description"
        elif u["correction"] is None:
            who = f"Answer in round {active[u['round'] - 1].round}"
        else:
            who = f"Investigator's correction (round {u['correction'].get('round', '?')})"
        labels = [label + (" — removed by the investigator" if gone else "") for _k, label, gone in u["items"]]
        out.append({"who": who, "said": initial if u["round"] == 0 else u["said"], "constraints": labels,
                    "unused": u["unused"]})
    return out


def _capped(lines: list[str], limit: int = 60) -> list[str]:
    """At most ``limit`` verification lines (a gallery can have thousands of missing files)."""
    if len(lines) <= limit:
        return lines
    return lines[:limit] + [f"  … and {len(lines) - limit} more lines; verifying the case file lists them all (see the appendix)"]


def _sections(case, rec, entries) -> list[RoundSection]:
    sections: dict[int, RoundSection] = {}

    def section(t: int) -> RoundSection:
        return sections.setdefault(t, RoundSection(t))

    for r in rec.rounds(include_undone=True):
        section(int(r["round"])).records.append(RoundRecord(
            round=int(r["round"]), undone=r["state"] != "active", suggested=r["suggested"] or "",
            asked=r["asked"] or "", answer=r["answer"] or "", edited=(r["suggested"] or "") != (r["asked"] or ""),
            questioner=r["questioner"] or "", rationale=r["rationale"] or "", attribute=r["attribute"] or "",
            k=r["k"], suggested_at=r["suggested_at"] or "", answered_at=r["answered_at"] or ""))
    # candidates: one set per (round, state) run; a new set starts at position 1
    current: CandidateSet | None = None
    for rnd, pos, sha, grow, rank, score, reasons, state in case.conn.execute(
            "SELECT round, position, sha256, gallery_row, rank, score, reasons, state FROM candidates ORDER BY id"):
        undone = state != "active"
        if current is None or pos == 1 or current.round != rnd or current.undone != undone:
            current = CandidateSet(int(rnd), undone, [])
            section(int(rnd)).candidate_sets.append(current)
        current.items.append({"position": pos, "sha256": sha, "gallery_row": grow, "rank": rank,
                              "score": score, "reasons": reasons or ""})
    for e in entries:
        if e.event == "question.skipped" and "round" in e.params:
            try:
                section(int(e.params["round"])).skipped.append({"question": str(e.params.get("question", "")),
                                                               "at": e.ts})
            except (TypeError, ValueError):
                continue
    for s in sections.values():  # active candidate sets first
        s.candidate_sets.sort(key=lambda c: c.undone)
    return [sections[k] for k in sorted(sections)]


def _images(meta: dict, shas: list[str], source_of: dict, status: dict) -> tuple[bool, str, dict[str, ImageInfo]]:
    from ..errors import UserError
    from ..gallery.store import Gallery

    images = {sha: ImageInfo(sha, None, [source_of[sha]] if source_of.get(sha) else [],
                             status=status.get(sha, "ok")) for sha in shas}
    folder = meta.get("gallery_path", "")
    try:
        gallery = Gallery.open(folder)
    except (UserError, OSError) as exc:
        # a folder that is not there: say so, not the import advice the gallery's own message gives a user
        why = "it is not at that place (moved, renamed, or on a drive not connected)" if not Path(folder).exists() \
            else str(exc)
        note = (f"The gallery folder {folder} could not be opened when this report was written ({why}); "
                "its thumbnails are unavailable, images are drawn from their original files where those "
                "are still readable (otherwise shown as unavailable), and camera and time are not known.")
        for info in images.values():
            info.thumb = _readable(info.sources)
        return False, note, images
    try:
        for sha, info in images.items():
            row = gallery.row_of(sha)
            if row is None:
                info.thumb = _readable(info.sources)
                continue
            img = gallery.image(row)
            info.row, info.camera, info.timestamp = row, img.camera, img.timestamp
            info.sources = list(dict.fromkeys(info.sources + list(img.sources)))
            info.thumb = img.thumb if img.thumb.is_file() else _readable(info.sources)
            from ..video.query import crop_provenance

            info.video = crop_provenance(gallery, sha)
    finally:
        gallery.close()
    return True, "", images


def _source_videos(meta: dict, images: dict[str, ImageInfo]) -> list[dict]:
    """The source videos of the report's video crops, with their hashes and clocks."""
    wanted = {i.video["video_sha256"] for i in images.values() if i.video}
    if not wanted:
        return []
    from ..gallery.store import Gallery
    from ..video.query import list_videos

    with Gallery.open(meta.get("gallery_path", "")) as gallery:
        return [v for v in list_videos(gallery) if v["sha256"] in wanted]


def _readable(paths: list[str]) -> Path | None:
    for p in paths:
        if p and Path(p).is_file():
            return Path(p)
    return None


def _audit_summary(entries) -> dict:
    counts = Counter(e.event for e in entries)
    return {"rows": len(entries), "first": entries[0].ts if entries else "", "last": entries[-1].ts if entries else "",
            "events": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            "actors": sorted({e.actor for e in entries}),
            "head_hash": entries[-1].hash if entries else "",
            "exports": [{"ts": e.ts, **e.params} for e in entries if e.event == "report.exported"]}


def fmt_ts(value) -> str:
    """An ISO timestamp as "2024-05-01 12:30:07 UTC" (seconds); anything else unchanged; "" for empty."""
    from datetime import datetime, timezone

    if not value:
        return ""
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if t.tzinfo is None:
        return t.strftime("%Y-%m-%d %H:%M:%S")
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def engine_lines(data: ReportData) -> list[tuple[str, str]]:
    """(label, value) rows describing the engine and the model pack."""
    e = data.engine
    retr = e.get("retriever") or {}
    if isinstance(retr, dict):
        retr_text = " ".join(str(x) for x in (retr.get("name"), retr.get("version")) if x)
        extra = {k: v for k, v in retr.items() if k not in ("name", "version")}
        if extra:
            retr_text += " (" + json.dumps(extra, sort_keys=True, ensure_ascii=False) + ")"
    else:
        retr_text = str(retr)
    from .words import engine_words

    rows = [("How the gallery was searched", engine_words(e)),
            ("Engine (technical)", str(e.get("kind", "unknown"))), ("Retriever (technical)", retr_text or "—"),
            ("Candidate selector (technical)", str(e.get("selector", "—"))),
            ("Questioner (technical)", str(e.get("questioner", "—")))]
    p = data.pack
    if p:
        rows.append(("Model pack", f"{p.get('name', '?')} version {p.get('version', '?')}"))
        rows.append(("Pack manifest SHA-256", str(p.get("manifest_sha256", "—"))))
        rows.append(("Pack weights", RANDOM_WEIGHTS_WARNING.upper() if data.random_weights
                     else str(p.get("weights", "trained"))))
    else:
        rows.append(("Model pack", "none (the lite engine uses no model weights)" if e.get("kind") == "lite"
                     else "none recorded"))
    return rows


def case_lines(data: ReportData) -> list[tuple[str, str]]:
    m = data.meta
    s = data.audit_summary
    return [("Case title", m.get("title", "")), ("Case ID", m.get("case_id", "")),
            ("Investigator", m.get("investigator", "")), ("Case created", fmt_ts(m.get("created", ""))),
            ("First / last recorded activity", f"{fmt_ts(s['first'])} / {fmt_ts(s['last'])}"),
            ("Case file", data.case_path), ("Case created with", m.get("software", "")),
            ("Report written by", data.software), ("Report generated", fmt_ts(data.generated_at))]


def gallery_lines(data: ReportData) -> list[tuple[str, str]]:
    m = data.meta
    return [("Gallery folder", m.get("gallery_path", "")),
            ("Images in gallery (at case creation)", str(m.get("gallery_images", ""))),
            ("Gallery manifest (SHA-256)" if m.get("gallery_manifest") else "Gallery fingerprint (SHA-256)",
             m.get("gallery_fingerprint", "")),
            ("Gallery available at export", "yes" if data.gallery_available else "NO — images unavailable")]
