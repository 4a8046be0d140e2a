"""Training data: an Interactive-PEDES annotation file, its image root, and the retrieval query.

``images`` (the image root) defaults to the annotation file's folder, which is where
``interreid data synth`` puts ``images/``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..evaluation.annotations import Record, load_annotations
from ..interview.answers import DONT_KNOW  # noqa: F401  (the one "don't know", re-exported for the stages)
from ..interview.query import build_query  # noqa: F401  (re-exported for the training stages)


@dataclass
class Dataset:
    """The records of one split, with paths resolved against ``root``."""

    records: list[Record]
    root: Path
    split: str

    def __len__(self) -> int:
        return len(self.records)

    def image_path(self, i: int) -> Path:
        return self.root / self.records[i].file_path

    def load_image(self, i: int):
        from PIL import Image

        path = self.image_path(i)
        try:
            with Image.open(path) as im:
                return im.convert("RGB")
        except (OSError, ValueError) as exc:
            raise UserError(f"Image {path} of the training data cannot be read ({exc.__class__.__name__}); check "
                            "data.images.") from None

    @property
    def ids(self) -> np.ndarray:
        return np.asarray([r.id for r in self.records], dtype=np.int64)


def load_split(annotations: str | Path, images: str | Path | None, split: str) -> Dataset:
    """The records of ``split`` (``all`` for every record). Raises UserError when none."""
    if not annotations:
        raise UserError("No annotation file given; set data.annotations=PATH (an Interactive-PEDES JSON file).")
    path = Path(annotations)
    records = load_annotations(path)
    root = Path(images) if images else path.parent
    chosen = records if split == "all" else [r for r in records if r.split == split]
    if not chosen:
        splits = sorted({r.split for r in records})
        raise UserError(f"Annotation file {path} has no records in split '{split}'; it has {', '.join(splits)}.")
    if not root.is_dir():
        raise UserError(f"Image root {root} is not a folder; set data.images to the folder the file paths start in.")
    return Dataset(chosen, root, split)


def rank_rows(scores: np.ndarray) -> np.ndarray:
    """Gallery rows best first; ties keep gallery order (as the interview loop ranks)."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.lexsort((np.arange(len(scores)), -scores))


def target_rank(order: np.ndarray, ids: np.ndarray, target_id: int) -> int:
    """1-based position of the first gallery row of identity ``target_id`` in ``order``."""
    hits = np.flatnonzero(ids[order] == target_id)
    return int(hits[0]) + 1 if len(hits) else len(order) + 1


def rank_pools(text: np.ndarray, gallery: np.ndarray, rounds: list[int], pool: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rank-1 row (M,), rows of ranks 2..k (M, K) int64 with -1 padding, mask (M, K) bool) for each
    query, k = ceil(pool / t)."""
    n = len(gallery)
    width = max(1, min(pool, n) - 1)
    first = np.zeros(len(text), dtype=np.int64)
    rows = np.full((len(text), width), -1, dtype=np.int64)
    for i, (t_vec, t) in enumerate(zip(text, rounds)):
        order = rank_rows(gallery @ t_vec)
        k = min(int(math.ceil(pool / max(1, t))), n)
        first[i] = order[0]
        chosen = order[1:k]
        rows[i, :len(chosen)] = chosen
    return first, rows, rows >= 0
