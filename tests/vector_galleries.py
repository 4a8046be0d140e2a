"""Galleries of given vectors (rows with synthetic identities, one shared thumbnail name), for the
index and search tests."""

from __future__ import annotations

import hashlib


def gallery_of(folder, vectors, fmt=None):
    """A new gallery in ``folder`` holding ``vectors`` (vector file precision ``fmt``); open, the caller closes it."""
    from interreid.engine.embedder import EmbedderIdentity
    from interreid.engine.gallery.store import Gallery

    g = Gallery.create(folder, EmbedderIdentity("test", "1", vectors.shape[1]), vector_format=fmt)
    add_rows(g, vectors, 0)
    return g


def add_rows(g, vectors, start):
    """Append ``vectors`` as rows ``start``.. (their identities depend only on the row number)."""
    g.add_synthetic_rows([hashlib.sha256(b"%d" % (start + i)).hexdigest() for i in range(len(vectors))],
                         vectors, "t.jpg")


def format2_gallery(folder, dim, fmt=None):
    """A new, empty gallery in format 2, as interreid wrote them before format 3: the same tables, the
    database's vector column the vectors' source and the vector file derived from it. The caller adds
    rows (they keep their float32 vectors in the database) and closes it."""
    from interreid.engine.embedder import EmbedderIdentity
    from interreid.engine.gallery.store import Gallery

    g = Gallery.create(folder, EmbedderIdentity("test", "1", dim), vector_format=fmt)
    with g.transaction():
        g.set_meta("schema_version", "2")
    return g
