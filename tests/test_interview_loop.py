"""The interview loop on a synthetic gallery whose attributes we control, with a scripted witness."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interreid.engine.casefile import CaseFile
from interreid.engine.casefile.case import InterviewRecords
from interreid.engine.embedder import create_embedder
from interreid.engine.engines import build_engine
from interreid.engine.errors import UserError
from interreid.engine.gallery.importer import import_sources
from interreid.engine.gallery.store import Gallery
from interreid.engine.interview.loop import Interview, k_for_round
from imagemaker import write_person

COLOURS = ["black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"]
TARGET = {"upper": "red", "lower": "green", "feet": "white", "head": "black"}


@pytest.fixture(scope="module")
def gallery_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    src = root / "crops"
    rng = np.random.default_rng(7)
    write_person(src / "target.jpg", TARGET["upper"], TARGET["lower"], head=TARGET["head"], feet=TARGET["feet"],
                 seed=999)
    for i in range(249):
        upper = "red" if i % 3 == 0 else COLOURS[rng.integers(len(COLOURS))]  # many red tops
        write_person(src / f"p{i:03d}.jpg", upper, COLOURS[rng.integers(len(COLOURS))],
                     head=COLOURS[rng.integers(3)], feet=COLOURS[rng.integers(len(COLOURS))], seed=i)
    embedder = create_embedder("lite")
    with Gallery.create(root / "gallery", embedder.identity) as g:
        import_sources(g, embedder, [src])
    return root / "gallery"


def witness(question) -> str:
    """Answers from the target's attributes; "I don't know" for anything else."""
    attr = (question.attribute or "").lower()
    if "length" in attr:
        return "Long trousers."
    for region, phrase in (("upper", "The top was {}."), ("lower", "The trousers were {}."),
                           ("feet", "The shoes were {}."), ("shoe", "The shoes were {}."),
                           ("head", "The hair was {}."), ("hair", "The hair was {}.")):
        if region in attr:
            return phrase.format(TARGET[{"shoe": "feet", "hair": "head"}.get(region, region)])
    return "I don't know."


def target_row(gallery) -> int:
    return next(r for r in range(len(gallery)) if gallery.image(r).path.endswith("target.jpg"))


def test_rank_improves_k_follows_schedule_no_repeats(gallery_dir, tmp_path):
    with Gallery.open(gallery_dir) as g:
        iv = Interview(g, build_engine(g, selector="kmeans", questioner="infogain"))
        target = target_row(g)
        state = iv.start("A person wearing a red top.")
        ranks = [state.rank_of(target)]
        questions = []
        for t in range(1, 6):
            assert state.round_index == t
            assert state.k == min(math.ceil(200 / t), len(g)) == min(k_for_round(t), len(g))
            assert len(state.candidates) == 4 and state.candidates[0].rank == 1
            assert all(c.rank <= state.k for c in state.candidates)
            if not state.suggestion.text:  # nothing useful left to ask: said plainly, never repeated
                assert "Nothing useful is left" in state.suggestion.rationale
                break
            questions.append(state.suggestion.text)
            state = iv.answer(witness(state.suggestion))
            ranks.append(state.rank_of(target))
        assert len(set(questions)) == len(questions), questions
        assert ranks[-1] < ranks[0] and ranks[-1] <= 3, ranks


def test_undo_restores_previous_ranking_and_question(gallery_dir):
    with Gallery.open(gallery_dir) as g:
        iv = Interview(g, build_engine(g))
        first = iv.start("A person wearing a red top.")
        rows0, q0 = first.rows.copy(), first.suggestion.text
        iv.answer(witness(first.suggestion))
        back = iv.undo()
        assert back.round_index == 1
        assert np.array_equal(back.rows, rows0) and back.suggestion.text == q0
        with pytest.raises(UserError):
            iv.undo()


def test_edited_question_dont_know_and_skip(gallery_dir):
    with Gallery.open(gallery_dir) as g:
        iv = Interview(g, build_engine(g))
        state = iv.start("A person wearing a red top.")
        before = state.rows.copy()
        state = iv.dont_know(asked="Did you see the face?")
        assert np.array_equal(state.rows, before)  # "I don't know" changes nothing
        assert iv.dialogue[0].question == "Did you see the face?"
        old = state.suggestion
        new = iv.skip().suggestion
        assert new.text != old.text


def test_case_records_resume_and_ranking_equals_shown(gallery_dir, tmp_path):
    path = tmp_path / "case.case"
    with Gallery.open(gallery_dir) as g:
        engine = build_engine(g)
        case = CaseFile.create(path, "Loop test", "tester", g, engine.identity())
        iv = Interview(g, engine, case=case)
        state = iv.start("A person wearing a red top.")
        state = iv.answer(witness(state.suggestion))
        state = iv.answer("The trousers were green.", asked="What colour were the trousers?")
        shown_rows, shown_q = state.rows.copy(), state.suggestion.text
        shown_candidates = [c.sha256 for c in state.candidates]
        case.close()

        case = CaseFile.open(path)
        rec = InterviewRecords(case)
        stored_rows, stored_scores, _ = rec.ranking(2)
        assert np.array_equal(stored_rows, shown_rows)
        assert np.allclose(stored_scores, state.scores)
        assert [c["sha256"] for c in rec.candidates(3)] == shown_candidates
        rounds = rec.rounds()
        assert [r["round"] for r in rounds] == [1, 2]
        assert rounds[1]["asked"] == "What colour were the trousers?" and rounds[1]["suggested"] != rounds[1]["asked"]

        resumed = Interview(g, build_engine(g), case=case).resume()
        assert resumed.round_index == 3
        assert np.array_equal(resumed.rows, shown_rows)
        assert [c.sha256 for c in resumed.candidates] == shown_candidates
        assert resumed.suggestion.text == shown_q
        assert case.verify(rehash_images=False).ok
        case.close()


def test_undo_is_recorded_not_deleted(gallery_dir, tmp_path):
    with Gallery.open(gallery_dir) as g:
        case = CaseFile.create(tmp_path / "u.case", "Undo", "tester", g, {})
        iv = Interview(g, build_engine(g), case=case)
        s = iv.start("A person wearing a red top.")
        iv.answer(witness(s.suggestion))
        iv.undo()
        rec = InterviewRecords(case)
        assert rec.rounds() == [] and len(rec.rounds(include_undone=True)) == 1
        assert any(e.event == "round.undone" for e in case.audit_entries())
        assert case.verify(rehash_images=False).ok
        case.close()


def test_empty_description_and_empty_gallery_are_clear_errors(gallery_dir, tmp_path):
    with Gallery.open(gallery_dir) as g:
        with pytest.raises(UserError, match="empty"):
            Interview(g, build_engine(g)).start("   ")
    empty = Gallery.create(tmp_path / "empty", create_embedder("lite").identity)
    with pytest.raises(UserError, match="holds no images"):
        Interview(empty, build_engine(empty))
    empty.close()
