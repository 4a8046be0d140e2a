"""``train joint``: selector + questioner trained together (REFERENCE.md "Selector": the selector's
Gumbel top-k k-hot multiplies the candidates' projected visual features inside the questioner, so
the selector learns from the language-model loss; tau goes linearly 1.0 -> 0.1).

Not built yet: :func:`engine.training.questioner.run_questioner` has the seam (``selector_hook``:
called with each example's visual tokens, its parameters join the optimiser, its state the
checkpoint). What is missing is the hook itself: CLIP embeddings of each round's candidate pool,
the selector's k-hot over ranks 2..k, and visual tokens for the whole pool.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def run_joint(cfg: dict, out: str | Path, resume: bool = False, progress_factory=None) -> dict:
    raise UserError("Joint selector + questioner training is not available in this version; train the selector "
                    "('train selector') and the questioner ('train questioner') separately.")
