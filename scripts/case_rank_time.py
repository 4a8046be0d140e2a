#!/usr/bin/env python3
"""What storing the counted rank of a marked image costs, on a gallery (docs/scale.md).

    interreid gallery synthetic G --rows 1000000
    python scripts/case_rank_time.py G

Makes a plain case on the gallery in a temporary folder, ranks a first round (the case keeps its top
1000), marks the image in the middle of the gallery (far below the kept top), then times counting its
rank for that past round (the round's stored query scored again) and the next round, which counts it
on its own scores. Prints one JSON line. Unless INTERREID_WORKSTATION is set, the workstation's keys
and anchors go to the temporary folder too.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="interreid-rank-time-"))
    if "INTERREID_WORKSTATION" not in os.environ:
        os.environ["INTERREID_WORKSTATION"] = str(tmp / "workstation")
        (tmp / "passphrase.txt").write_text("a throwaway passphrase for a measurement\n", encoding="utf-8")
        os.environ["INTERREID_KEY_FILE"] = str(tmp / "passphrase.txt")
        os.environ.setdefault("INTERREID_DATA", str(tmp / "data"))
    from interreid.engine.casefile import CaseFile
    from interreid.engine.casefile.case import InterviewRecords
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview

    with Gallery.open(sys.argv[1]) as g:
        rows = len(g)
        engine = build_engine(g)
        with CaseFile.create(tmp / "c.case", "rank time", "measurement", g, engine.identity(), encrypt=False) as case:
            iv = Interview(g, engine, case=case)
            tick = time.perf_counter()
            state = iv.start("A person in a red top and blue trousers.")
            first = time.perf_counter() - tick
            far = len(g) // 2
            case.mark(g.shas_of_rows([far])[far], "possible")
            tick = time.perf_counter()
            iv.record_ranks()
            later = time.perf_counter() - tick
            tick = time.perf_counter()
            iv.answer("Black shoes.")
            second = time.perf_counter() - tick
            points = InterviewRecords(case).rank_points()
    print(json.dumps({"gallery_rows": rows, "kept": len(state.rows), "first_round_s": round(first, 3),
                      "count_past_round_s": round(later, 3), "next_round_with_its_count_s": round(second, 3),
                      "ranks": [{"after_round": p["after_round"], "rank": p["rank"], "counted": p["counted"]}
                                for p in points]}))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
