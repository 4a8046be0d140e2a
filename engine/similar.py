"""Find similar: rank a gallery by how much its images look like one image (a side search).

The measure is the gallery's own image vectors: the full engine's image embedding, or the lite
engine's colour vectors (a colour distribution per body region). Both are compared by cosine
similarity after L2 normalisation, so 1.0 is "the same vectors" and the order is what counts.
A side search changes nothing in the interview; when a case is given, it is recorded there
(which image, which measure, the images it found first) in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserError

RECORDED_TOP = 20  # how many of the results the case's audit log names
_BLOCK = 65_536  # rows decoded and scored at once


@dataclass
class SimilarResult:
    query_row: int
    query_sha256: str
    measure: str  # in words, e.g. "clothing colours (lite engine)"
    rows: np.ndarray  # gallery rows, most similar first (the query image itself left out)
    scores: np.ndarray  # cosine similarity, float32


def measure_of(gallery) -> str:
    """What "similar" means for this gallery, in words."""
    name = gallery.embedder_identity.name
    return "clothing colours (lite engine)" if name.startswith("lite") else f"image embedding ({name})"


def resolve_image(gallery, image: str) -> int:
    """The gallery row of ``image``: a SHA-256 (or a unique prefix of 8+ characters) or an image file."""
    text = image.strip()
    path = Path(text).expanduser()
    if path.is_file():
        from .storage.blobs import plain_sha256

        row = gallery.row_of(plain_sha256(path))  # a sealed crop of an encrypted gallery: the hash of its PNG
        if row is None:
            raise UserError(f"{path} is not in gallery {gallery.folder}; import it first or choose a gallery image.")
        return row
    low = text.lower()
    if len(low) < 8 or any(c not in "0123456789abcdef" for c in low):
        raise UserError(f"'{image}' is neither an image file nor a SHA-256 (at least 8 hexadecimal characters).")
    hits = [row for row, _sha in gallery.rows_with_sha_prefix(low, below=len(gallery))]  # the hash index, no list
    if not hits:
        raise UserError(f"No image in gallery {gallery.folder} has a SHA-256 starting with {low}.")
    if len(hits) > 1:
        raise UserError(f"More than one image has a SHA-256 starting with {low}; give more characters.")
    return hits[0]


def find_similar(gallery, row: int, top: int | None = None) -> SimilarResult:
    """The gallery ranked by similarity to the image at ``row`` (itself left out), best first."""
    from .gallery.index import top_k

    vectors = gallery.vectors()
    n = len(vectors)
    if not 0 <= row < n:
        raise UserError(f"The gallery has no image number {row + 1}.")
    query = np.asarray(vectors[row], dtype=np.float32).reshape(-1)
    query = query / (float(np.linalg.norm(query)) or 1.0)
    scores = np.empty(n, dtype=np.float32)
    for start in range(0, n, _BLOCK):  # block by block: memory stays one block whatever the gallery's size
        block = np.asarray(vectors[start:min(n, start + _BLOCK)], dtype=np.float32)
        norms = np.linalg.norm(block, axis=1)
        norms[norms == 0] = 1.0
        scores[start:start + len(block)] = (block @ query) / norms
    scores[row] = -np.inf  # the image itself is not a result
    result = top_k(scores, min(top or n, n) if n > 1 else 0)
    keep = result.rows != row
    return SimilarResult(row, gallery.shas_of_rows([row])[row], measure_of(gallery), result.rows[keep],
                         result.scores[keep])


def record_similar(case, result: SimilarResult, gallery=None) -> None:
    """Note the side search in the case's audit log (it changes nothing else in the case). With the
    open ``gallery`` of a case citing its manifest, only the recorded rows' hashes are read."""
    top = [int(r) for r in result.rows[:RECORDED_TOP]]
    held = case.held_rows()
    if gallery is not None and held is not None:
        from .gallery.lazy import RowShas

        known = RowShas(gallery)
        inside = [r for r in top if r < min(held, len(known))]
        sha_of = dict(zip(inside, known.many(inside)))
    else:
        sha_of = {idx: sha for idx, sha, _p in case.gallery_snapshot()}
    case.log_event("search", "similar.searched",
                   {"sha256": result.query_sha256, "measure": result.measure,
                    "results": [sha_of.get(int(r), "") for r in result.rows[:RECORDED_TOP]]})
