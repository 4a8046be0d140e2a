"""``interreid case new|show|verify|mark|report``."""

from __future__ import annotations

from ..errors import UserError
from .output import emit_json


def register(sub) -> None:
    p = sub.add_parser("case", help="create, show, verify or report a case file")
    csub = p.add_subparsers(dest="case_command", metavar="ACTION", required=True)

    new = csub.add_parser("new", help="create a case file for an investigation")
    new.add_argument("file", metavar="FILE")
    new.add_argument("--title", required=True)
    new.add_argument("--investigator", default=None, help="default: the OS user")
    new.add_argument("--gallery", required=True, metavar="DIR")
    new.add_argument("--pack", metavar="DIR", help="model pack (full-engine galleries)")
    new.add_argument("--selector", default="kmeans")
    new.add_argument("--questioner", default="infogain")
    new.add_argument("--json", action="store_true")
    new.set_defaults(func=cmd_new)

    show = csub.add_parser("show", help="print a case: metadata, rounds, marks, audit log")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    ver = csub.add_parser("verify", help="re-check the audit chain and re-hash every gallery image")
    ver.add_argument("file", metavar="FILE")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(func=cmd_verify)

    mark = csub.add_parser("mark", help="mark an image match / possible / excluded (or cleared)")
    mark.add_argument("file", metavar="FILE")
    mark.add_argument("image", metavar="SHA256", help="the image's SHA-256 (a unique prefix is enough)")
    mark.add_argument("mark", choices=("match", "possible", "excluded", "cleared"))
    mark.add_argument("--note", default="")
    mark.set_defaults(func=cmd_mark)

    rep = csub.add_parser("report", help="write the case report (PDF or HTML) and its .sha256 file")
    rep.add_argument("file", metavar="FILE")
    rep.add_argument("--out", required=True, metavar="REPORT", help="REPORT.pdf or REPORT.html")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=cmd_report)


def cmd_new(args) -> int:
    from ..session import new_case

    with new_case(args.file, args.title, args.investigator, args.gallery, selector=args.selector,
                  questioner=args.questioner, pack=args.pack, load_questioner=False) as session:
        meta = session.case.metadata()
        engine = session.engine.identity()
    if args.json:
        emit_json({"file": args.file, **meta})
    else:
        print(f"created case '{meta['title']}' ({meta['case_id']}) in {args.file}: gallery {meta['gallery_path']} "
              f"({meta['gallery_images']} images), {engine['kind']} engine")
    return 0


def case_summary(case) -> dict:
    from ..casefile.case import InterviewRecords

    rec = InterviewRecords(case)
    return {"metadata": case.metadata(), "rounds": rec.rounds(include_undone=True),
            "candidates": rec.candidates(), "marks": case.current_marks(), "witness_views": case.witness_views(),
            "audit": [e.__dict__ for e in case.audit_entries()]}


def cmd_show(args) -> int:
    from ..casefile import CaseFile

    with CaseFile.open(args.file) as case:
        summary = case_summary(case)
    if args.json:
        emit_json(summary)
        return 0
    m = summary["metadata"]
    print(f"case         {m.get('title')} ({m.get('case_id')})")
    print(f"investigator {m.get('investigator')}   created {m.get('created')}")
    print(f"gallery      {m.get('gallery_path')} ({m.get('gallery_images')} images, fingerprint "
          f"{m.get('gallery_fingerprint', '')[:16]}…)")
    eng = m.get("engine", {})
    print(f"engine       {eng.get('kind')} — selector {eng.get('selector')}, questioner {eng.get('questioner')}")
    if m.get("initial_description"):
        print(f"witness      {m['initial_description']}")
    for r in summary["rounds"]:
        flag = " (undone)" if r["state"] != "active" else ""
        edited = "" if r["suggested"] == r["asked"] else f"  [suggested: {r['suggested']}]"
        print(f"round {r['round']}{flag}: Q: {r['asked']}{edited}\n          A: {r['answer']}")
    for sha, mk in summary["marks"].items():
        print(f"mark         {mk['mark']:<9} {sha[:16]}…  {mk['note']}")
    for v in summary["witness_views"]:
        print(f"SHOWN TO WITNESS {v['sha256'][:16]}… at {v['at']} {v['note']}")
    print(f"audit log    {len(summary['audit'])} rows")
    return 0


def cmd_verify(args) -> int:
    from ..casefile import CaseFile

    with CaseFile.open(args.file) as case:
        result = case.verify()
    if args.json:
        emit_json(result.as_dict())
    else:
        print("\n".join(result.lines()))
        print("case verified: nothing altered" if result.ok else "CASE FAILED VERIFICATION")
    return 0 if result.ok else 1


def cmd_mark(args) -> int:
    from ..casefile import CaseFile

    with CaseFile.open(args.file) as case:
        matches = [sha for _i, sha, _p in case.gallery_snapshot() if sha.startswith(args.image.lower())]
        if len(matches) != 1:
            raise UserError(f"'{args.image}' matches {len(matches)} images of this case; give more of the SHA-256.")
        case.mark(matches[0], args.mark, args.note)
    print(f"marked {matches[0][:16]}… as {args.mark}")
    return 0


def cmd_report(args) -> int:
    from ..hashing import sha256_file
    from ..report import report_format, write_report

    report_format(args.out)  # a bad suffix is refused before the case is opened
    out = write_report(args.file, args.out)
    digest = sha256_file(out)
    if args.json:
        emit_json({"path": str(out), "sha256": digest, "format": report_format(out),
                   "sidecar": str(out.with_name(out.name + ".sha256"))})
    else:
        print(f"wrote {out}\nsha256 {digest}")
    return 0
