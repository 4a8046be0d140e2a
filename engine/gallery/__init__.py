"""Galleries of person crops: the SQLite store, the importer and the vector index."""

from .store import Gallery, GalleryImage  # noqa: F401
