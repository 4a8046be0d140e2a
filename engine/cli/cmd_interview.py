"""``interreid interview``: the interview loop in a terminal (no GUI).

Reads the investigator's input line by line, so it also runs from a script or a pipe. At the
question prompt: Enter accepts the suggestion, any other text replaces it, ``:skip`` asks for
another suggestion, ``:undo`` undoes the last round, ``:quit`` stops (the case keeps everything).
At the answer prompt an empty line or ``?`` records "I don't know.".
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError
from .output import emit_json


def register(sub) -> None:
    p = sub.add_parser("interview", help="run an interview in the terminal (records to a case file)")
    p.add_argument("--gallery", metavar="DIR", help="gallery folder (default: the case's gallery)")
    p.add_argument("--case", metavar="FILE", help="case file: resumed if it exists, created if not")
    p.add_argument("--title", default="Terminal interview", help="title for a new case")
    p.add_argument("--description", help="the witness's initial description (else asked for)")
    p.add_argument("--rounds", type=int, default=5, help="round cap (default 5; you may continue past it)")
    p.add_argument("--selector", default=None, help="top | uniform | kmeans | learned (default kmeans)")
    p.add_argument("--questioner", default=None, help="infogain | template | llava (default infogain)")
    p.add_argument("--pack", metavar="DIR")
    p.add_argument("--treid", metavar="PACK", help="also rank with a text-based re-ID model (paper Table 2): a "
                                                   "model pack or installed pack name, or 'lite'")
    p.add_argument("--treid-weight", type=float, default=None, metavar="W",
                   help="weight of that model's match to the initial description (default 0.5, a plain average)")
    p.add_argument("--show", type=int, default=5, metavar="N", help="ranked results shown per round")
    p.add_argument("--json", metavar="OUT", help="also write the transcript as JSON to OUT ('-' = stdout); it "
                                                  "gives each question's reason and each candidate's match in "
                                                  "the engine's own technical words too")
    p.set_defaults(func=cmd_interview)


def _read(prompt: str) -> str | None:
    sys.stdout.write(prompt)
    sys.stdout.flush()
    try:
        line = sys.stdin.readline()
    except UnicodeDecodeError:
        raise UserError("The input holds bytes that are not valid text (UTF-8); everything before it is saved. "
                        "Fix the input and run the same command again to resume.") from None
    if not line:
        return None
    if not sys.stdin.isatty():
        sys.stdout.write(line if line.endswith("\n") else line + "\n")  # echo scripted input
    return line.rstrip("\n")


def open_case_and_gallery(args):
    """(case or None, gallery, engine): the case resumed if it exists, created if named, else none."""
    from ..session import new_case, open_case, open_gallery

    if args.case and Path(args.case).exists():
        session = open_case(args.case, gallery=args.gallery, selector=args.selector, questioner=args.questioner,
                            pack=args.pack, treid=getattr(args, "treid", None),
                            treid_weight=getattr(args, "treid_weight", None))
        for warning in session.warnings:
            print(f"WARNING: {warning}", file=sys.stderr)
    elif not args.gallery:
        raise UserError("Give --gallery DIR (or --case FILE of an existing case).")
    elif args.case:
        session = new_case(args.case, args.title, None, args.gallery, selector=args.selector,
                           questioner=args.questioner, pack=args.pack, load_questioner=True,
                           treid=getattr(args, "treid", None), treid_weight=getattr(args, "treid_weight", None))
    else:
        session = open_gallery(args.gallery, selector=args.selector, questioner=args.questioner, pack=args.pack,
                               treid=getattr(args, "treid", None), treid_weight=getattr(args, "treid_weight", None))
    return session.case, session.gallery, session.engine


def numbered_constraints(state) -> list[tuple[str, str]]:
    """(key, label) of every constraint in the current search, in the order the CLI numbers them."""
    return [(k, label) for u in state.understood for k, label in zip(u.get("keys", []), u["constraints"])]


def print_understood(state) -> None:
    """What the engine took from the description and from each answer, numbered so the investigator
    can remove (:drop N) or correct (:correct N WORDS) one, and what it could not use."""
    n = 0
    for u in state.understood:
        who = {0: "description", "correction": "your correction"}.get(u["round"], f"answer {u['round']}")
        parts = []
        for label in u["constraints"]:
            n += 1
            parts.append(f"[{n}] {label}")
        parts += [f"{label} (removed by you)" for label in u.get("removed", [])]
        took = "; ".join(parts) or "nothing it can search on"
        print(f"  understood from {who}: {took}" + (f"  (not used: {', '.join(u['unused'])})" if u["unused"] else ""))
    if any("answer weighed" in label for u in state.understood for label in u["constraints"]):
        from ..lite.parser import ANSWER_NOTE_LEGEND

        print(f"  ({ANSWER_NOTE_LEGEND})")
    if state.constrains_nothing:
        print("  WARNING: nothing said so far names a colour or garment the engine can search on, so every "
              "image matches equally and the order below means nothing. Describe the clothes' colours.")


def print_state(gallery, state, show: int) -> None:
    from ..interview.query import readable_query
    from ..report.words import plain_reasons

    print(f"\n== Round {state.round_index} (candidates picked from the best {state.k}) ==  query: "
          f"{readable_query(state.query)}")
    print_understood(state)
    for c in state.candidates:
        img = gallery.image(c.row)
        reasons = plain_reasons(c.reasons)  # the engine's own figures go in --json
        print(f"  candidate rank {c.rank:>4}  match {c.match:3.0f}%  {img.path}" + (f"  [{reasons}]" if reasons else ""))
    print("  ranking: " + ", ".join(f"#{i + 1} {Path(gallery.image(int(r)).path).name}"
                                    for i, r in enumerate(state.rows[:show])))
    print("  (match: 100% = the best match in the gallery for what was said; 50% = half as likely to be "
          "the person described)")
    if state.over_cap:
        print(f"  (round cap of {state.max_rounds} reached; you may go on or type :quit)")


def _check_args(args) -> None:
    if args.rounds < 1:
        raise UserError(f"--rounds {args.rounds} allows no question; give 1 or more.")
    if args.show < 1:
        raise UserError(f"--show {args.show} shows no result; give 1 or more.")
    if args.description is not None:
        if not args.description.strip():
            raise UserError("--description is empty; give the witness's description in words, or leave the "
                            "option out to be asked for it.")
        try:
            args.description.encode("utf-8")
        except UnicodeEncodeError:
            raise UserError("--description holds bytes that are not valid text (UTF-8); retype it.") from None
    if args.json and args.json != "-":
        out = Path(args.json).expanduser()
        if out.is_dir():
            raise UserError(f"--json {args.json} is a folder; give a file name for the transcript.")
        if not out.absolute().parent.is_dir():
            raise UserError(f"Folder {out.absolute().parent} does not exist; choose another place for --json.")


def cmd_interview(args) -> int:
    from ..interview.loop import Interview
    from ..report.words import plain_rationale

    _check_args(args)
    case, gallery, engine = open_case_and_gallery(args)
    transcript: list[dict] = []
    try:
        iv = Interview(gallery, engine, case=case, max_rounds=args.rounds)
        for note in engine.notes:
            print(f"NOTE: {note}", file=sys.stderr)
        print(f"engine: {engine.describe()}; gallery {gallery.folder} ({len(gallery)} images)"
              + ("" if case else "  (no case file: nothing is recorded; give --case FILE to keep one)"))
        if case is not None and case.meta("initial_description"):
            state = iv.resume()
            print(f"resumed case at round {state.round_index}; witness said: {iv.initial}")
        else:
            description = args.description if args.description is not None else \
                _read("Witness's initial description> ")
            if not description or not description.strip():
                raise UserError("No initial description given; nothing to search for.")
            state = iv.start(description)
        while True:
            print_state(gallery, state, args.show)
            s = state.suggestion
            why = plain_rationale(s.rationale)  # the questioner's own words go in --json and the case file
            if s.text:
                print(f"Suggested question: {s.text}" + (f"\n  (why: {why})" if why else ""))
            else:
                print(f"No question suggested. {why}")
            line = _read("Question [Enter accepts; type your own; :skip :undo :drop N :correct N WORDS :quit]> ")
            if line is None or line.strip() == ":quit":
                break
            if line.strip() == ":skip":
                state = iv.skip()
                continue
            if line.strip() == ":undo":
                state = iv.undo()
                continue
            if line.strip().split(" ", 1)[0] in (":drop", ":correct"):
                state = _correct(iv, state, line.strip())
                continue
            asked = line.strip() or s.text
            answer = _read("Witness's answer [empty or ? = I don't know; :quit stops without recording]> ")
            if answer is None or answer.strip() == ":quit":  # a command, never the witness's words
                break
            if answer.strip() in ("", "?"):
                answer = "I don't know."
            transcript.append({"round": state.round_index, "suggested": s.text, "asked": asked, "answer": answer,
                               "why": why, "questioner": s.questioner, "rationale": s.rationale,
                               "candidates": [{"path": gallery.image(c.row).path, "rank": c.rank,
                                               "match": round(float(c.match), 1), "reasons": c.reasons}
                                              for c in state.candidates]})
            state = iv.answer(answer, asked=asked)
            transcript[-1]["top"] = [gallery.image(int(r)).path for r in state.rows[:args.show]]
    finally:
        if case is not None:
            print(f"\ncase saved: {case.path}")
            case.close()
        gallery.close()
    if args.json:
        emit_json({"engine": engine.identity(), "rounds": transcript}, args.json)
    return 0


def _correct(iv, state, line: str):
    """``:drop N`` removes constraint N; ``:correct N WORDS`` replaces it with WORDS (e.g. "black")."""
    command, _, rest = line.partition(" ")
    number, _, words = rest.strip().partition(" ")
    listed = numbered_constraints(state)
    if not number.isdigit() or not 1 <= int(number) <= len(listed):
        print(f"Give the number of a constraint listed above (1 to {len(listed)}), e.g. {command} 2"
              + (" black" if command == ":correct" else "") + ".", file=sys.stderr)
        return state
    if command == ":correct" and not words.strip():
        print("Say what is right instead, e.g. :correct 2 dark blue.", file=sys.stderr)
        return state
    return iv.correct(listed[int(number) - 1][0], words if command == ":correct" else "")
