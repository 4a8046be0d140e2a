"""A deterministic test embedder (mean colour of 4 horizontal bands), for tests of the importer
and index that must not depend on either engine's features. Clearly a test double."""

from __future__ import annotations

import numpy as np

from interreid.engine.embedder import EmbedderIdentity, l2_normalise


class BandColourTestEmbedder:
    identity = EmbedderIdentity("test-band-colour", "1", 12)
    batch_size = 4

    def __init__(self):
        self.calls = 0

    def embed_images(self, images):
        self.calls += 1
        out = []
        for im in images:
            a = np.asarray(im.convert("RGB").resize((16, 32)), dtype=np.float32) / 255.0
            out.append(np.concatenate([band.mean(axis=(0, 1)) for band in np.array_split(a, 4, axis=0)]) + 0.01)
        return l2_normalise(np.asarray(out))
