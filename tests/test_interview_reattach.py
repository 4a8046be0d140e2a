"""An interview that let go of its gallery's files (``Interview.release``, as the app does before it opens
another case) maps them again with ``reattach`` and goes on as if nothing happened: the same round on
screen, ranks below the kept rows counted as for a resumed case, the next answer ranked and recorded."""

from __future__ import annotations

import numpy as np

from interreid.engine.bench.speed_round import build_synthetic_gallery
from interreid.engine.casefile import CaseFile
from interreid.engine.casefile.case import InterviewRecords
from interreid.engine.engines import build_engine
from interreid.engine.gallery.store import Gallery
from interreid.engine.interview.loop import Interview

DESCRIPTION = "A person in a red top and blue trousers."
ASKED, ANSWER = "What colour were the shoes?", "Black shoes."


def test_release_then_reattach_goes_on_where_it_was(tmp_path):
    build_synthetic_gallery(tmp_path / "g", 600, "lite")  # more rows than a round keeps (its depth: 200 here)
    with Gallery.open(tmp_path / "g") as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "t.case", "T", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case, depth=200)
            state = iv.start(DESCRIPTION)
            below = int(np.setdiff1d(np.arange(len(g)), state.rows)[0])  # ranked below the kept rows
            rank_before = state.rank_of(below)
            assert rank_before > len(state.rows)
            iv.release()
            g.let_go_of_files()  # as the app does (desktop/session.py, _let_go_of_held)
            assert iv.searcher is None and iv.vectors is None and g._vectors is None
            iv.reattach()
            assert iv.state is state and iv.searcher is not None and g._vectors is not None
            assert state.rank_of(below) == rank_before
            after = iv.answer(ANSWER, asked=ASKED)
            assert after.round_index == 2 and len(InterviewRecords(case).rounds()) == 1
        # the same ranking as an interview that never let go of its files
        fresh = Interview(g, engine, depth=200)
        fresh.start(DESCRIPTION)
        again = fresh.answer(ANSWER, asked=ASKED)
        assert np.array_equal(again.rows, after.rows) and np.allclose(again.scores, after.scores)
