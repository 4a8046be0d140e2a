"""Synthetic galleries: real gallery folders whose rows have synthetic vectors and no image files,
for measuring and trying the workstation at sizes no test footage reaches (``interreid gallery
synthetic``, ``bench speed --round-sizes``).

Each row has a synthetic identity instead of an image hash: 16 hex digits of its row number then
48 of a SHA-256 (``synthetic_id``), so the database's hash index grows in order and a 10-million-row
gallery is written in minutes, not hours. Every row points at one shared thumbnail; it has no source
file, so ``case verify`` checks its identity in the gallery's manifest and says that it has no file
to re-hash. The vectors are appended to the vector file (their only copy, with its block hashes:
vector_store.py); a full-engine gallery also gets every row's lite colour vector (that of the
shared thumbnail).

Lite vectors are random colour distributions. Full-engine vectors come from one of two models
(``model``): ``people`` (the default, synthetic_people.py: people of a few crops each who share
attributes, in a low-dimensional space, anchored on the pack's text tower when one is given; why, in
that module) or ``clusters`` (the first generator, kept for comparison: about 512 rows around each
random centre plus isotropic noise, whose top 200 is a near-random tail no approximate search can
recover).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from ..embedder import EmbedderIdentity, l2_normalise
from ..errors import GalleryError
from .store import Gallery

CHUNK = 200_000
THUMB = "thumbs/synthetic.jpg"
MODELS = ("people", "clusters")
DEFAULT_MODEL = "people"


def synthetic_id(row: int) -> str:
    """A synthetic row's 64-hex identity (row-ordered; not the hash of any file)."""
    return "%016x" % row + hashlib.sha256(b"synthetic %d" % row).hexdigest()[:48]


def synthetic_vectors(rng: np.random.Generator, m: int, dim: int, centres: np.ndarray | None) -> np.ndarray:
    if centres is None:  # lite: random colour distributions (rows of non-negative values)
        return l2_normalise(rng.random((m, dim)).astype(np.float32))
    noise = rng.standard_normal((m, dim)).astype(np.float32) * np.float32(0.35 / np.sqrt(dim))
    return l2_normalise(centres[rng.integers(0, len(centres), m)] + noise)


def build(folder: str | Path, n: int, identity: EmbedderIdentity, lite: bool, progress=None,
          vector_format: str | None = None, model: str = DEFAULT_MODEL, text_encoder=None) -> dict:
    """Write a new gallery of ``n`` synthetic rows to ``folder`` (refused if it holds a gallery);
    ``vector_format`` (fp32 | fp16 | int8) is the precision of its vector file; ``model`` (people |
    clusters) how full-engine vectors are made; ``text_encoder`` (the pack's, optional) anchors the
    people model's attributes on its text embeddings."""
    if model not in MODELS:
        raise GalleryError(f"Unknown synthetic model {model!r}; choose one of {', '.join(MODELS)}.")
    from PIL import Image

    folder = Path(folder).expanduser().absolute()
    if (folder / "gallery.db").exists():
        raise GalleryError(f"{folder} already holds a gallery; choose a new folder for the synthetic one.")
    if n <= 0:
        raise GalleryError("A synthetic gallery needs at least one row; give --rows 1 or more.")
    start_t = time.perf_counter()
    from .vector_format import DEFAULT_FORMAT, check_format

    check_format(vector_format or DEFAULT_FORMAT)
    gallery = Gallery.create(folder, identity, vector_format=vector_format)
    try:
        (folder / "thumbs").mkdir(exist_ok=True)
        Image.fromarray(np.full((64, 32, 3), (180, 40, 40), np.uint8)).save(folder / THUMB)
        rng = np.random.default_rng(n)
        dim = identity.dim
        centres = people = None
        if not lite and model == "clusters":
            centres = l2_normalise(rng.standard_normal((max(1, n // 8 // 64), dim)).astype(np.float32))
        elif not lite:
            from .synthetic_people import PeopleModel, phrases

            anchors = None if text_encoder is None else np.asarray(text_encoder.encode_text(phrases()), np.float32)
            people = PeopleModel(dim, seed=n, anchors=anchors)
        gallery.bulk_writes(True)  # a new folder: a crash leaves nothing anyone relies on
        for start in range(0, n, CHUNK):  # each chunk: its vectors appended to the file, then its rows committed
            m = min(CHUNK, n - start)
            vec = people.rows(rng, m)[0] if people is not None else synthetic_vectors(rng, m, dim, centres)
            with gallery.transaction():
                gallery.add_synthetic_rows([synthetic_id(start + i) for i in range(m)], vec, THUMB)
            if progress is not None:
                progress(start + m, n)
        gallery.invalidate()
        gallery.set_index_backend("auto")  # exact below 200,000 rows, the bits index above (built on first search)
        from . import colour_cache, manifest

        if colour_cache.needed(gallery):
            from ..embedder import create_embedder

            one = create_embedder("lite").embed_images([gallery.load_image(0)])[0]
            for start in range(0, n, CHUNK):
                m = min(CHUNK, n - start)
                colour_cache.store_rows(gallery, np.arange(start, start + m), np.broadcast_to(one, (m, len(one))))
        cited = manifest.current(gallery)
        gallery.bulk_writes(False)
        gallery.checkpoint()
    finally:
        gallery.close()
    return {"folder": str(folder), "rows": n, "dim": identity.dim, "manifest": cited,
            "model": None if lite else model, "anchored_on_text": bool(not lite and model == "people" and text_encoder),
            "seconds": round(time.perf_counter() - start_t, 1)}
