"""``interreid case new|show|verify|mark|report``."""

from __future__ import annotations

import sys

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
    new.add_argument("--plain", action="store_true",
                     help="do not encrypt the case file at rest (it is encrypted with the workstation passphrase "
                          "by default)")
    new.add_argument("--json", action="store_true")
    new.set_defaults(func=cmd_new)

    show = csub.add_parser("show", help="print a case: metadata, rounds, marks, audit log")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    ver = csub.add_parser("verify", help="re-check the signed audit chain, the workstation's anchors and every "
                                         "gallery image")
    ver.add_argument("file", metavar="FILE")
    ver.add_argument("--report", metavar="REPORT", help="also check the case still holds the head this report "
                                                        "(PDF or HTML) recorded, and the record of its export")
    ver.add_argument("--gallery", metavar="DIR", help="check against the gallery in DIR (moved or renamed since the "
                                                      "case named it) without recording anything in the case; "
                                                      "refused unless DIR holds the same gallery")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(func=cmd_verify)

    ext = csub.add_parser("extend", help="add the images imported into the case's gallery since the case was "
                                         "made (recorded in the audit log); until then the case leaves them out")
    ext.add_argument("file", metavar="FILE")
    ext.set_defaults(func=cmd_extend)

    rel = csub.add_parser("relocate", help="record the new folder of a case's gallery after it was moved or "
                                           "renamed (refused unless the folder holds the same gallery; recorded in "
                                           "the audit log)")
    rel.add_argument("file", metavar="FILE")
    rel.add_argument("--gallery", required=True, metavar="DIR", help="the gallery's folder now")
    rel.set_defaults(func=cmd_relocate)

    mig = csub.add_parser("migrate", help="upgrade a case file made by an earlier interreid (recorded in its "
                                          "audit log)")
    mig.add_argument("file", metavar="FILE")
    mig.set_defaults(func=cmd_migrate)

    rk = csub.add_parser("rekey", help="change the passphrase a case file is encrypted with (or encrypt a plain "
                                       "one); also re-protects this workstation's signing key")
    rk.add_argument("file", metavar="FILE", nargs="+")
    rk.add_argument("--new-key-file", metavar="FILE", help="read the new passphrase from this file (default: ask "
                                                           "in the terminal)")
    rk.add_argument("--plain", action="store_true", help="decrypt instead (the file is then readable by anyone "
                                                        "who has it)")
    rk.set_defaults(func=cmd_rekey)

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
                  questioner=args.questioner, pack=args.pack, load_questioner=False,
                  encrypt=not args.plain) as session:
        meta = session.case.metadata()
        engine = session.engine.identity()
    if args.json:
        emit_json({"file": args.file, **meta})
    else:
        print(f"created case '{meta['title']}' ({meta['case_id']}) in {args.file}: gallery {meta['gallery_path']} "
              f"({meta['gallery_images']} images), {engine['kind']} engine, "
              + ("encrypted at rest" if meta.get("encrypted") == "yes" else "NOT encrypted (--plain)"))
    return 0


def case_summary(case) -> dict:
    from ..casefile.case import InterviewRecords

    rec = InterviewRecords(case)
    from ..storage.keys import key_fingerprint

    meta = case.metadata()
    key = meta.get("signing_public_key")
    security = {"encrypted": case.encrypted, "format": case.version, "head": case.head(),
                "signing_key": key_fingerprint(key) if key else None}
    return {"metadata": meta, "security": security, "rounds": rec.rounds(include_undone=True),
            "candidates": rec.candidates(), "marks": case.current_marks(), "witness_views": case.witness_views(),
            "ranks": rec.rank_points(), "audit": [e.__dict__ for e in case.audit_entries()]}


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
    cited = "manifest" if m.get("gallery_manifest") else "fingerprint"  # as 'gallery info' names them
    print(f"gallery      {m.get('gallery_path')} ({m.get('gallery_images')} images, {cited} "
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
    for p in summary["ranks"]:  # counted among every image the case searches, also below the kept top
        after = "initial ranking" if p["after_round"] == 0 else f"after answer {p['after_round']}"
        below = f" (below the {p['kept']:,} kept)" if p["rank"] > p["kept"] else ""
        print(f"rank         {p['rank']:>9,}{below} {after}: {p['sha256'][:16]}… ({p['why']})")
    sec = summary["security"]
    head = sec["head"] or {}
    print(f"audit log    {len(summary['audit'])} rows" + (f", head row {head['seq']} {head['hash'][:16]}…" if head else "")
          + (f", signed by workstation key {sec['signing_key']}" if sec["signing_key"] else ", not signed (format 1)"))
    print(f"file         format {sec['format']}, " + ("encrypted at rest" if sec["encrypted"] else "NOT encrypted"))
    return 0


def cmd_verify(args) -> int:
    from ..casefile import CaseFile

    if args.report is not None:
        from pathlib import Path

        if not Path(args.report).is_file():
            raise UserError(f"Report {args.report} does not exist; give the PDF or HTML report of this case.")
    with CaseFile.open(args.file) as case:
        if args.report is not None:  # the wrong file is the user's mistake, not a finding about the case
            from ..casefile.anchors import report_mismatch

            wrong = report_mismatch(args.report, case.meta("case_id") or "")
            if wrong:
                raise UserError(wrong)
        result = case.verify(report=args.report, gallery=args.gallery)
    if args.json:
        emit_json(result.as_dict())
    else:
        print("\n".join(result.lines()))
        unchecked_only = result.chain_ok and not (result.altered_images or result.missing_images
                                                  or result.gallery_problems)
        print("case verified: nothing altered" if result.ok else
              "CASE NOT FULLY VERIFIED: its gallery could not be checked (nothing found altered)" if unchecked_only
              else "CASE FAILED VERIFICATION: the gallery it searched has changed since the case recorded it "
                   "(the case file itself is intact)" if result.chain_ok
              else "CASE FAILED VERIFICATION")
        if unchecked_only and result.unchecked and args.gallery is None:
            print(f"If the gallery was moved, check against its new folder: interreid case verify {args.file} "
                  f"--gallery DIR (records nothing), or record the move: interreid case relocate {args.file} --gallery DIR.")
    return 0 if result.ok else 1


def cmd_extend(args) -> int:
    from ..casefile import CaseFile
    from ..gallery.store import Gallery

    with CaseFile.open(args.file) as case:
        folder = case.meta("gallery_path")
        with Gallery.open(folder) as gallery:
            added = case.extend_snapshot(gallery)
            held = case.held_rows()  # a case citing the gallery manifest: O(1); formats 1-2: its own list
            total = held if held is not None else len(case.gallery_snapshot())
    if added:
        print(f"added {added} image(s) from {folder} to the case (now {total}); recorded in its audit log")
    else:
        print(f"the case already holds every image of {folder} ({total}); nothing was changed")
    return 0


def cmd_relocate(args) -> int:
    from ..session import relocate_gallery

    print(relocate_gallery(args.file, args.gallery))
    return 0


def cmd_migrate(args) -> int:
    from ..casefile import CaseFile

    with CaseFile.open(args.file) as case:
        before = case.version
        done = case.migrate()
    if not done:
        print(f"{args.file} is already in the current format (format {before}); nothing was changed.")
    else:
        print(f"migrated {args.file}:")
        print("\n".join(f"  - {d}" for d in done))
    return 0


def cmd_rekey(args) -> int:
    from pathlib import Path

    from ..casefile import CaseFile
    from ..storage import keys, rekey_database

    old = keys.get_passphrase("the case files' current passphrase")
    new = None
    if not args.plain:
        if args.new_key_file:
            try:
                new = Path(args.new_key_file).read_text(encoding="utf-8").splitlines()[0]
            except (OSError, UnicodeDecodeError, IndexError):
                raise UserError(f"The new key file {args.new_key_file} cannot be read or is empty; write the new "
                                "passphrase on its first line.") from None
        else:
            import sys

            if not sys.stdin.isatty():
                raise UserError("The new passphrase is needed and there is no terminal to ask in: give it with "
                                "--new-key-file.")
            import getpass

            new = getpass.getpass("New passphrase: ")
            if getpass.getpass("Repeat the new passphrase: ") != new:
                raise UserError("The two passphrases differ; nothing was changed.")
        if not new:
            raise UserError("An empty passphrase cannot protect a file; nothing was changed.")
    for name in args.file:
        with CaseFile.open(name) as case:  # proves it is a case and the old passphrase opens it
            case.log_event("case", "case.rekeyed", {"encrypted": new is not None})
            case.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        what = rekey_database(name, old, new, what="case file")
        print(f"{name}: {what}")
    if new is not None and keys.rewrap_signing_key(new):
        print("this workstation's signing key is now protected by the new passphrase; update the key file "
              f"named by {keys.ENV_KEY_FILE} if you use one")
    return 0


def cmd_mark(args) -> int:
    from ..casefile import CaseFile
    from ..casefile.case import InterviewRecords

    with CaseFile.open(args.file) as case:
        if args.image.strip() == "":
            raise UserError("Give the image's SHA-256 (or a unique prefix of it) to mark.")
        matches = _images_with_prefix(case, args.image.strip().lower())
        if len(matches) != 1:
            raise UserError(f"'{args.image}' matches " + ("no image" if not matches else "more than one image")
                            + " of this case; give more of the SHA-256.")
        case.mark(matches[0], args.mark, args.note)
        ranked = bool(InterviewRecords(case).rankings()) and args.mark != "cleared"
        pending, old = ranked and case.stores_ranks(), ranked and not case.stores_ranks()
    print(f"marked {matches[0][:16]}… as {args.mark}")
    if pending:
        _count_ranks(args.file)
    elif old:
        print("this case was made by an earlier interreid: its rank below the top rows the case keeps is not "
              "stored until 'interreid case migrate' upgrades it", file=sys.stderr)
    return 0


def _images_with_prefix(case, prefix: str) -> list[str]:
    """The SHA-256 of the case's images that start with ``prefix`` (at most 2: one is a unique match). A
    case citing the gallery manifest looks them up in its gallery's hash index, never reading its list."""
    held = case.held_rows()
    if held is None:
        return [sha for _i, sha, _p in case.gallery_snapshot() if sha.startswith(prefix)]
    from ..gallery.store import Gallery

    with Gallery.open(case.meta("gallery_path") or "", read_only=True) as gallery:
        found = gallery.rows_with_sha_prefix(prefix, below=held, limit=2)
    return [sha for _row, sha in found]


def _count_ranks(path) -> None:
    """The newly marked image's rank in each round already recorded, counted and stored in the case (for
    the report's rank chart), when the case's gallery and engine can be opened here."""
    from ..interview.loop import Interview
    from ..session import open_case

    try:
        with open_case(path, load_questioner=False) as session:
            # counting ranks runs no round: no warm-up
            stored = Interview(session.gallery, session.engine, case=session.case, warm=False).record_ranks()
    except UserError as exc:
        print(f"its rank in the rounds already recorded was not counted ({exc}); it is counted when the "
              "interview is next continued", file=sys.stderr)
        return
    if stored:
        print(f"stored {stored} counted rank(s) of marked or shown images in the recorded rounds (for the "
              "report's rank chart)")


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
