"""Case reports (PDF and HTML): content checked through pdftotext and an HTML parser, tamper warnings on
the first page, the sidecar hash and the report.exported audit event, unicode text, a missing gallery."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from rawcase import raw_connect
from interreid.engine.casefile import CaseFile
from interreid.engine.casefile.case import InterviewRecords
from interreid.engine.embedder import create_embedder
from interreid.engine.engines import build_engine
from interreid.engine.errors import UserError
from interreid.engine.gallery.importer import import_sources
from interreid.engine.gallery.store import Gallery
from interreid.engine.interview.loop import Interview
from interreid.engine.report import write_report
from fake_embedders import BandColourTestEmbedder
from imagemaker import write_person

COLOURS = ["red", "blue", "green", "yellow", "black", "white", "purple", "orange", "pink", "brown", "grey", "red"]
EDITED_QUESTION = "Did you notice his shoes? What colour were they?"

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                   reason="poppler-utils (pdftotext, pdftoppm) is not installed; "
                                          "scripts/setup.sh installs it")


@pytest.fixture(scope="module")
def interview_case(tmp_path_factory):
    """A real lite-engine interview recorded in a case: 3 rounds (one edited, one undone and
    re-answered, one "don't know"), a skipped suggestion, marks and a witness view."""
    root = tmp_path_factory.mktemp("report")
    for i, upper in enumerate(COLOURS):
        write_person(root / "crops" / f"cam0{i % 3 + 1}" / f"2024-05-01T12-30-{i:02d}_p{i}.jpg", upper,
                     COLOURS[(i + 5) % len(COLOURS)], seed=i)
    embedder = create_embedder("lite")
    facts: dict = {}
    with Gallery.create(root / "gallery", embedder.identity) as g:
        import_sources(g, embedder, [root / "crops"])
        engine = build_engine(g)
        with CaseFile.create(root / "Fall 42.case", "Raub Hauptstraße", "KHK Zeugin Müller", g,
                             engine.identity()) as case:
            iv = Interview(g, engine, case=case)
            state = iv.start("a man in a red jacket and dark trousers")
            state = iv.answer("Blue jeans, I think.")
            state = iv.answer("Black shoes.", asked=EDITED_QUESTION)  # round 2, edited ...
            state = iv.undo()  # ... then undone
            state = iv.answer("White trainers.")
            state = iv.skip()
            state = iv.dont_know(asked=state.suggestion.text or "Anything else you remember about him?")
            first, second = state.candidates[0].sha256, state.candidates[1].sha256
            case.mark(first, "match", "same jacket and gait")
            case.mark(second, "possible", "similar build")
            case.mark(second, "excluded", "different shoes")
            case.record_witness_view(first, "photo shown on the interview screen")
            rec = InterviewRecords(case)
            facts["rounds"] = rec.rounds(include_undone=True)
            facts["marks"] = {first: "same jacket and gait", second: "different shoes"}
            facts["witness"] = first
            shas = {c["sha256"] for c in rec.candidates()} | {first, second}
            last = rec.rankings()[-1]
            shas |= {g.shas()[int(r)] for r in last["rows"][:10]}
            facts["shas"] = shas
    return root, root / "Fall 42.case", facts


def _copy_case(interview_case, tmp_path) -> Path:
    _root, case_path, _facts = interview_case
    out = tmp_path / "copy.case"
    shutil.copy(case_path, out)
    return out


def _pdf_text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(first)] if first else []) + (["-l", str(last)] if last else [])
    return subprocess.run(args + [str(pdf), "-"], check=True, capture_output=True, text=True).stdout


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse_html(path: Path) -> _Collect:
    p = _Collect()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _audit_exports(case_path: Path) -> list[dict]:
    with CaseFile.open(case_path) as case:
        return [e.params for e in case.audit_entries() if e.event == "report.exported"]


@needs_poppler
def test_pdf_report_holds_every_round_mark_and_image(interview_case, tmp_path):
    _root, _case, facts = interview_case
    case_path = _copy_case(interview_case, tmp_path)
    out = write_report(case_path, tmp_path / "report.pdf")
    assert out == tmp_path / "report.pdf"
    text = _pdf_text(out)
    flat = " ".join(text.split())
    for r in facts["rounds"]:
        assert r["asked"] in flat and r["answer"] in flat and r["suggested"] in flat
    assert "EDITED BY INVESTIGATOR" in flat and "UNDONE" in flat
    assert "skipped by the investigator" in flat
    for sha, note in facts["marks"].items():
        assert note in flat
    assert "match" in flat and "excluded" in flat
    assert "What the software understood" in flat and "match 100%" in flat
    for sha in facts["shas"]:
        assert sha in text, f"image {sha} is not in the report"
    assert "a man in a red jacket and dark trousers" in flat
    assert "Rank over rounds" in flat and "Evidence appendix" in flat
    first = " ".join(_pdf_text(out, 1, 1).split())
    assert "IMAGES SHOWN TO THE WITNESS (1)" in first and facts["witness"] in first
    assert "not identifications" in first and "Audit chain: intact" in first
    assert "Raub Hauptstraße" in first and "KHK Zeugin Müller" in first and "interreid 0.1.0" in first
    assert "lite" in first and "WARNING" not in first
    # it opens: the first page renders to a PNG with ink on it
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(out), str(tmp_path / "page")],
                   check=True, capture_output=True)
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image

    with Image.open(png) as im:
        assert im.size[0] > 200 and im.convert("L").getextrema()[0] < 100
    # sidecar (sha256sum format) and the audit event
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    sidecar = (tmp_path / "report.pdf.sha256").read_text().splitlines()
    assert sidecar[-1] == f"{digest}  report.pdf" and sidecar[0].startswith("# interreid-case-head:")
    assert subprocess.run(["sha256sum", "-c", "--strict", "report.pdf.sha256"], cwd=tmp_path,
                          capture_output=True).returncode == 0
    exports = _audit_exports(case_path)
    assert exports == [{"path": str(out), "sha256": digest, "format": "pdf"}]
    with CaseFile.open(case_path) as case:
        assert case.verify(rehash_images=False).ok


def test_html_report_is_self_contained_and_complete(interview_case, tmp_path):
    _root, _case, facts = interview_case
    case_path = _copy_case(interview_case, tmp_path)
    out = write_report(case_path, tmp_path / "report.html")
    raw = out.read_text(encoding="utf-8")
    parsed = _parse_html(out)
    text = " ".join(" ".join(parsed.text).split())
    for r in facts["rounds"]:
        assert r["asked"] in text and r["answer"] in text
    assert EDITED_QUESTION in text and "EDITED BY INVESTIGATOR" in text and "UNDONE" in text
    for sha, note in facts["marks"].items():
        assert note in text and sha in text
    for sha in facts["shas"]:
        assert sha in text
    assert "IMAGES SHOWN TO THE WITNESS (1)" in text and "not identifications" in text
    # what was understood from each statement, and match percentages with their meaning, not raw scores
    assert "What the software understood" in text and "top: red (sure)" in text
    assert "trousers/legs: blue (less sure; answer weighed 61%)" in text  # "Blue jeans, I think.", an answer
    assert "counts N% as much as the same words in the first description" in text  # and what that means
    assert "‘less sure’: said with doubt (‘I think’" in text and "hedged" not in text  # not the engine's word
    assert "match 100%" in text and "it is not the probability that an image shows the person" in text
    assert raw.index('id="witness-views"') < raw.index('id="interview"')
    # the body speaks to a court reader; the command that checks the report is in the appendix only
    body = raw[:raw.index('id="evidence"')]
    assert "case verify" not in body and "the appendix says how" in body
    assert "interreid case verify CASE-FILE --report THIS-REPORT" in raw[raw.index('id="evidence"'):]
    # self-contained: images are data: URIs, nothing external, no scripts
    images = [a for t, a in parsed.tags if t == "img"]
    assert len(images) >= len(facts["shas"])
    assert all(a["src"].startswith("data:image/") for a in images)
    assert not [t for t, _a in parsed.tags if t in ("script", "link", "iframe", "object")]
    assert "http://" not in raw and "https://" not in raw and "url(" not in raw
    chart = next(a for a in images if a.get("alt", "").startswith("rank of the marked images"))
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(chart["src"].split(",", 1)[1]))) as im:
        assert im.format == "PNG" and im.width > 400
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert (tmp_path / "report.html.sha256").read_text().split()[-2:] == [digest, "report.html"]
    assert _audit_exports(case_path)[-1]["format"] == "html"


@needs_poppler
@pytest.mark.parametrize("sql, problem", [
    ("UPDATE rounds SET answer = 'Black shoes, definitely.' WHERE id = 1", "rounds row 1 was altered"),
    ("UPDATE audit SET actor = 'mallory' WHERE seq = 5", "audit row 5"),
])
def test_tampered_case_is_reported_with_a_warning_on_page_one(interview_case, tmp_path, sql, problem):
    case_path = _copy_case(interview_case, tmp_path)
    conn = raw_connect(case_path)
    conn.execute(sql)
    conn.commit()
    conn.close()
    out = write_report(case_path, tmp_path / "tampered.pdf")
    first = " ".join(_pdf_text(out, 1, 1).split())
    assert "WARNING" in first and "FAILED VERIFICATION" in first and problem in first
    assert "Audit chain: BROKEN" in " ".join(_pdf_text(out).split())
    assert _audit_exports(case_path)[-1]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_report_without_the_gallery_says_images_are_unavailable(interview_case, tmp_path):
    root, _case, facts = interview_case
    case_path = _copy_case(interview_case, tmp_path)
    for name in ("gallery", "crops"):  # the gallery and the original files are both gone
        (root / name).rename(root / f"{name}-moved")
    try:
        out = write_report(case_path, tmp_path / "nogallery.html")
    finally:
        for name in ("gallery", "crops"):
            (root / f"{name}-moved").rename(root / name)
    text = " ".join(" ".join(_parse_html(out).text).split())
    assert "could not be opened" in text and "thumbnails are unavailable" in text and "image unavailable" in text
    # a format-3 case cites the gallery's manifest: with the gallery gone its images cannot be checked, which is not
    # a sign that the case was altered
    assert "GALLERY NOT CHECKED" in text and "images it searched were not checked" in text
    assert "Audit chain: intact" in text and "FAILED VERIFICATION" not in text
    for sha in facts["shas"]:
        assert sha in text  # details still come from the case file


@pytest.fixture
def small_gallery(tmp_path, crops_dir):
    g = Gallery.create(tmp_path / "gallery", BandColourTestEmbedder.identity)
    import_sources(g, BandColourTestEmbedder(), [crops_dir])
    yield g
    g.close()


@needs_poppler
def test_unicode_title_and_random_weights_pack(small_gallery, tmp_path):
    """A scripted case (no interview engine): unicode text prints, a random-weights pack is flagged."""
    engine = {"kind": "full", "retriever": {"name": "clip-onnx", "version": "1"}, "selector": "learned",
              "questioner": "llava", "pack": {"name": "test-pack", "version": "0.0.1",
                                              "manifest_sha256": "ab" * 32, "weights": "random"}}
    path = tmp_path / "東京.case"
    shas = small_gallery.shas()
    with CaseFile.create(path, "Zeugin Müller — 東京", "Kommissarin Ærø & <Team 2>", small_gallery, engine) as case:
        case.set_meta("initial_description", "Frau mit grüner Jacke, 東京 Tasche")
        rec = InterviewRecords(case)
        rec.save_ranking(0, "Frau mit grüner Jacke", np.arange(12), np.linspace(1, 0, 12))
        rec.save_candidates(1, [{"sha256": shas[i], "gallery_row": i, "rank": i + 1, "score": 1 - i / 12,
                                 "reasons": "Oberteil: grün"} for i in range(4)])
        rec.save_round({"round": 1, "suggested": "Farbe der Hose?", "asked": "Farbe der Hose?", "answer": "Blau.",
                        "questioner": "llava", "rationale": "", "attribute": "lower", "kind": "descriptive",
                        "k": 12, "suggested_at": "", "answered_at": ""})
        rec.save_ranking(1, "Frau mit grüner Jacke Blau.", np.arange(12)[::-1], np.linspace(1, 0, 12))
        case.mark(shas[2], "match", "Größe passt")
    pdf = write_report(path, tmp_path / "bericht.pdf")
    first = " ".join(_pdf_text(pdf, 1, 1).split())
    assert "Zeugin Müller" in first and "Kommissarin Ærø & <Team 2>" in first
    assert "random weights — untrained, for testing only" in first and "test-pack" in first
    assert "ab" * 32 in first
    from interreid.engine.report.pdf_report import FALLBACK_FONT_FILES

    if any(Path(f).is_file() for f in FALLBACK_FONT_FILES):  # a CJK font is installed: 東京 prints
        assert "Zeugin Müller — 東京" in first
    text = " ".join(_pdf_text(pdf).split())
    assert "Größe passt" in text and "Blau." in text
    html = write_report(path, tmp_path / "bericht.html")
    htext = " ".join(" ".join(_parse_html(html).text).split())
    assert "Zeugin Müller — 東京" in htext and "Frau mit grüner Jacke, 東京 Tasche" in htext
    assert "RANDOM WEIGHTS — UNTRAINED, FOR TESTING ONLY" in htext


def test_bad_output_names_are_user_errors(small_gallery, tmp_path):
    path = tmp_path / "c.case"
    CaseFile.create(path, "t", "i", small_gallery, {"kind": "test"}).close()
    with pytest.raises(UserError, match=r"\.pdf or \.html"):
        write_report(path, tmp_path / "report.docx")
    with pytest.raises(UserError, match="does not exist"):
        write_report(path, tmp_path / "nowhere" / "report.pdf")
    assert not list(tmp_path.glob("report*"))


def test_cli_case_report_prints_path_and_hash(small_gallery, tmp_path, capsys):
    from interreid.engine.cli.main import main

    path = tmp_path / "c.case"
    CaseFile.create(path, "CLI case", "i", small_gallery, {"kind": "test"}).close()
    out = tmp_path / "r.html"
    assert main(["case", "report", str(path), "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["path"] == str(out) and result["format"] == "html"
    assert result["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert main(["case", "report", str(path), "--out", str(out)]) == 0
    assert f"sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}" in capsys.readouterr().out
    assert main(["case", "report", str(path), "--out", str(tmp_path / "r.txt")]) == 2


def test_rank_chart_is_a_png_and_handles_wide_ranks():
    from PIL import Image

    from interreid.engine.report.chart import rank_chart_png

    assert rank_chart_png({"a" * 64: []}, {}) is None
    png = rank_chart_png({"a" * 64: [(0, 950), (1, 120), (2, 3)], "b" * 64: [(0, 1), (1, 40), (2, 700)]},
                         {"a" * 64: {"mark": "match"}, "b" * 64: {"mark": "excluded"}})
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.width > 400 and im.convert("L").getextrema()[0] < 100


def test_a_marked_image_below_the_kept_top_is_said_in_the_report(tmp_path):
    """The case keeps the top N of each round; a marked image ranked below it has no point on the chart,
    and the report says so in words instead of leaving a silent gap."""
    from interreid.engine.bench.speed_round import build_synthetic_gallery
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview

    folder = tmp_path / "g"
    build_synthetic_gallery(folder, 600, "lite")
    with Gallery.open(folder) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            state = Interview(g, engine, case=case, depth=250).start("A person in a red top and blue trousers.")
            kept = len(state.rows)
            assert kept < len(g)
            outside = next(r for r in range(len(g)) if r not in set(int(x) for x in state.rows))
            inside = int(state.rows[0])
            case.mark(g.image(outside).sha256, "possible", "far down")
            case.mark(g.image(inside).sha256, "match", "top")
    out = write_report(tmp_path / "c.case", tmp_path / "r.html")
    text = " ".join(" ".join(_parse_html(out).text).split())
    assert f"ranked below the {kept:,} best-ranked images the case keeps, in the ranking after the initial " \
        "description" in text
    assert text.count("ranked below the") == 1  # the top-ranked marked image has its point on the chart


def test_the_engine_table_says_in_words_how_the_gallery_was_searched_and_marks_the_technical_names():
    """A court reader reads the first row; the engine's own names follow, each marked technical."""
    from interreid.engine.report.data import ReportData, engine_lines

    d = ReportData.__new__(ReportData)
    d.engine, d.pack, d.random_weights = {"kind": "lite", "selector": "kmeans", "questioner": "infogain"}, {}, False
    rows = dict(engine_lines(d))
    assert list(rows)[0] == "How the gallery was searched"
    assert "four varied candidates" in rows["How the gallery was searched"]
    assert rows["Candidate selector (technical)"] == "kmeans" and rows["Questioner (technical)"] == "infogain"
    assert "Selector" not in rows and "Questioner" not in rows
