"""The Qdrant backend of the gallery index: an embedded store beside the gallery, or a server.

* **Embedded (the default of this backend):** ``qdrant-client``'s local mode keeps the collection
  in the folder ``qdrant/`` beside ``gallery.db``. It is a brute-force store written in Python, there
  for correctness and for a workstation that later moves to a server, not for speed (see
  docs/deployment.md for what it measured). Nothing leaves the machine.
* **A server (a force's shared cluster):** only when the user names one (``--qdrant-url``, saved in
  the gallery's settings). The API key, if the cluster wants one, is read from the environment
  variable ``INTERREID_QDRANT_API_KEY`` at each connection; it is never written to the gallery or a
  case file. An ``https://`` URL uses TLS. Replication and sharding are the cluster's.

One collection per gallery (its name saved in the gallery's settings). A point's id is the gallery
row; its payload holds the row, the image's SHA-256, its camera and its capture time as a number
(:func:`engine.gallery.filters.time_number`), so camera and time-range filters run on the server.

Every search is limited to the rows this gallery holds (``row < N``: a server filled by a regional
ingest may already hold newer rows), and the SHA-256 of every returned point is checked against the
gallery's own row: a collection that is not this gallery's is refused, never silently searched.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import warnings
from pathlib import Path

import numpy as np

from ..errors import GalleryError, UserError
from .filters import RowFilter, time_number

API_KEY_ENV = "INTERREID_QDRANT_API_KEY"
STORE_DIR = "qdrant"  # the embedded store, beside gallery.db
META_URL = "qdrant_url"
META_COLLECTION = "qdrant_collection"
BATCH = 1000
PUSH_CHUNK = 50_000  # rows whose payloads are read from the gallery at once
HNSW_EF = 800  # the server's graph search breadth (as the hnswlib backend's ef: recall@200 >= 0.95 there)
EMBEDDED_ADVISED_MAX = 20_000  # above this the embedded store's searches take seconds: a server is the tool
TIMEOUT_S = 10

_LOCAL: dict[str, object] = {}  # resolved store folder -> its one open client (local mode locks the folder)


class QdrantIndex:
    """Cosine search in one Qdrant collection; rows are point ids."""

    backend = "qdrant"
    supports_filters = True

    def __init__(self, dim: int, collection: str, path: Path | None = None, url: str | None = None):
        self.dim = dim
        self.collection = collection
        self.path = path
        self.url = url
        self.limit_rows: int | None = None  # search only rows below this (the gallery's size)
        self.shas: list[str] | None = None  # the gallery's SHA-256 per row, to check what comes back
        self.client = _client(path, url)
        self._call(self._ensure_collection)

    # -- the index interface -------------------------------------------------------------
    def add(self, vectors: np.ndarray, start_row: int, payloads: list[dict] | None = None,
            progress=None) -> None:
        """Write rows ``start_row ..`` (with their payloads) in batches; rewriting a row is harmless."""
        from qdrant_client import models

        vectors = np.asarray(vectors, dtype=np.float32)
        for s in range(0, len(vectors), BATCH):
            block = vectors[s:s + BATCH]
            rows = list(range(start_row + s, start_row + s + len(block)))
            loads = payloads[s:s + BATCH] if payloads is not None else [{"row": r} for r in rows]
            self._call(self.client.upsert, self.collection, wait=True,
                       points=models.Batch(ids=rows, vectors=block.tolist(), payloads=loads))
            if progress is not None:
                progress(s + len(block), len(vectors))

    def search(self, query: np.ndarray, k: int, where: RowFilter | None = None):
        from qdrant_client import models

        from .index import SearchResult

        must = []
        if self.limit_rows is not None:
            must.append(models.FieldCondition(key="row", range=models.Range(lt=self.limit_rows)))
        if where is not None and where.cameras:
            must.append(models.FieldCondition(key="camera", match=models.MatchAny(any=sorted(where.cameras))))
        if where is not None and (where.time_from is not None or where.time_to is not None):
            must.append(models.FieldCondition(key="time", range=models.Range(gte=where.time_from, lte=where.time_to)))
        if k <= 0:
            return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        found = self._call(self.client.query_points, self.collection,
                           query=np.asarray(query, dtype=np.float32).tolist(), limit=int(k),
                           query_filter=models.Filter(must=must) if must else None, with_payload=["sha256"],
                           search_params=models.SearchParams(hnsw_ef=max(HNSW_EF, int(k))) if self.url else None)
        points = found.points
        rows = np.array([int(p.id) for p in points], dtype=np.int64)
        scores = np.array([p.score for p in points], dtype=np.float32)
        if self.shas is not None:
            for p in points:
                row = int(p.id)
                held = self.shas[row] if row < len(self.shas) else None
                if (p.payload or {}).get("sha256") != held:
                    raise GalleryError(
                        f"The Qdrant collection {self.collection} ({self.where()}) holds another image at gallery "
                        f"row {row} than this gallery; it was filled from another gallery. Push this gallery's "
                        "vectors again with 'interreid gallery index DIR --backend qdrant'.")
        # ties in score: lower row first, as every other backend orders them
        order = np.lexsort((rows, -scores))
        return SearchResult(rows[order], scores[order])

    def __len__(self) -> int:
        return int(self._call(self.client.count, self.collection, exact=True).count)

    # -- helpers -------------------------------------------------------------------------
    def where(self) -> str:
        """Where the collection lives, in words (no key, no password)."""
        return f"server {self.url}" if self.url else "the store beside the gallery"

    def recreate(self) -> None:
        self._call(self.client.delete_collection, self.collection)
        self._call(self._ensure_collection)

    def describe(self, rows_searched: int) -> dict:
        """What a case records about the index its rankings came from."""
        return {"backend": self.backend, "server": self.url or "embedded", "collection": self.collection,
                "points": len(self), "rows_searched": rows_searched}

    def _ensure_collection(self) -> None:
        from qdrant_client import models

        if self.client.collection_exists(self.collection):
            size = self.client.get_collection(self.collection).config.params.vectors.size
            if size != self.dim:
                raise GalleryError(f"The Qdrant collection {self.collection} ({self.where()}) holds {size}-d vectors, "
                                   f"this gallery {self.dim}-d ones; name another collection or push again.")
            return
        self.client.create_collection(self.collection, vectors_config=models.VectorParams(
            size=self.dim, distance=models.Distance.COSINE))
        if self.url:  # payload indexes make the server's filters fast (the embedded store has none)
            for key, kind in (("row", models.PayloadSchemaType.INTEGER), ("camera", models.PayloadSchemaType.KEYWORD),
                              ("time", models.PayloadSchemaType.FLOAT)):
                self.client.create_payload_index(self.collection, key, field_schema=kind)
        _faster_local_writes(self.client, self.collection)

    def _call(self, fn, *args, **kwargs):
        """Run a client call; a server that cannot be reached or refuses is one sentence, not a traceback."""
        try:
            with warnings.catch_warnings():  # its advice to use a server above 20,000 points: said in our words
                warnings.filterwarnings("ignore", message="Local mode is not recommended", category=UserWarning)
                return fn(*args, **kwargs)
        except (GalleryError, UserError):
            raise
        except Exception as exc:  # noqa: BLE001  (the client raises many kinds; all mean the same to a user)
            if self.url is None:
                raise
            raise GalleryError(server_problem(self.url, exc)) from None


def server_problem(url: str, exc: Exception) -> str:
    """One sentence for a server that cannot be used."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return (f"The Qdrant server at {url} refused the connection (not authorised); set the cluster's API key "
                f"in the environment variable {API_KEY_ENV} and try again.")
    if status is not None:
        return f"The Qdrant server at {url} answered with an error ({status}: {text[:120]}); check the address."
    return (f"The Qdrant server at {url} cannot be reached ({text[:120]}); check the address, the network and that "
            "the server runs.")


def check_url(url: str) -> str:
    """The URL as given, if it is one Qdrant can be reached at (http or https, a host); else one sentence."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise UserError(f"--qdrant-url {url!r} is not a server address; write it as https://host:6333.")
    if parts.username or parts.password:
        raise UserError(f"--qdrant-url carries a user name or password; give the address alone and the API key "
                        f"in the environment variable {API_KEY_ENV}.")
    if parts.scheme == "http" and os.environ.get(API_KEY_ENV) and host not in ("127.0.0.1", "localhost", "::1"):
        raise UserError(f"The API key would cross the network unencrypted to {host}; use the server's https:// "
                        "address (TLS).")
    return url.strip().rstrip("/")


def _client(path: Path | None, url: str | None):
    from qdrant_client import QdrantClient  # lazy: qdrant-client and its HTTP stack are heavy

    if url:
        try:
            with warnings.catch_warnings():  # a key over plain http is refused by check_url, except to this machine
                warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")
                return QdrantClient(url=url, api_key=os.environ.get(API_KEY_ENV) or None, timeout=TIMEOUT_S,
                                    prefer_grpc=False, check_compatibility=False)
        except Exception as exc:  # noqa: BLE001
            raise GalleryError(server_problem(url, exc)) from None
    key = str(Path(path).resolve())
    client = _LOCAL.get(key)
    if client is None:
        try:
            with warnings.catch_warnings():  # its advice to use a server above 20,000 points: see EMBEDDED_ADVISED_MAX
                warnings.filterwarnings("ignore", message="Local mode is not recommended", category=UserWarning)
                client = QdrantClient(path=key)
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise GalleryError(f"The gallery's vector store ({key}) is open in another interreid program; "
                                   "close it there and try again.") from None
            raise
        if not _LOCAL:
            atexit.register(_close_all)  # closed while Python can still import (its own finaliser cannot)
        _LOCAL[key] = client
    return client


def _close_all() -> None:
    while _LOCAL:
        _LOCAL.popitem()[1].close()


def _faster_local_writes(client, collection: str) -> None:
    """The embedded store commits every point to its SQLite file with a full sync (1000 points took
    25 s on a shared disk). Write-ahead logging with normal sync keeps the file consistent after a
    crash and commits without a disk flush each; the store is derived data, rebuilt from the gallery."""
    try:
        conn = client._client.collections[collection].storage.storage  # internal to qdrant-client's local mode
    except (AttributeError, KeyError, TypeError):
        return  # a server, or another client version: nothing to tune
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")


def close_local(folder: Path) -> None:
    """Close the embedded store of a gallery folder (releases its lock)."""
    client = _LOCAL.pop(str((Path(folder) / STORE_DIR).resolve()), None)
    if client is not None:
        client.close()


def collection_name(gallery) -> str:
    name = gallery.meta(META_COLLECTION)
    if not name:
        name = f"interreid-gallery-{secrets.token_hex(8)}"
        gallery.save_meta(META_COLLECTION, name)
    return name


def set_server(gallery, url: str | None) -> None:
    """Use the server at ``url`` for this gallery (None: the embedded store)."""
    with gallery.transaction():
        if url:
            gallery.set_meta(META_URL, check_url(url))
        else:
            gallery.delete_meta(META_URL)


def payloads(gallery, start: int, stop: int) -> list[dict]:
    """The payload of rows ``start .. stop - 1``: row, SHA-256, camera, capture time (a number)."""
    return [{"row": r, "sha256": sha, "camera": camera, "time": time_number(stamp)}
            for r, sha, camera, stamp in gallery.rows_between(start, stop, details=True)]


def open_qdrant(gallery, vectors: np.ndarray, progress=None) -> QdrantIndex:
    """The gallery's Qdrant collection, brought up to date with its rows (pushed from the first missing one)."""
    n, dim = vectors.shape[0], gallery.embedder_identity.dim
    url = gallery.meta(META_URL)
    url = check_url(url) if url else None  # the key's environment may have changed since it was saved
    index = QdrantIndex(dim, collection_name(gallery), None if url else gallery.folder / STORE_DIR, url)
    done = len(index)
    if done > n and not url:  # the embedded store is from another state of this gallery: rebuild it
        index.recreate()
        done = 0
    if done < n:
        for s in range(done, n, PUSH_CHUNK):  # the payloads of one chunk at a time, not of the whole gallery
            e = min(n, s + PUSH_CHUNK)
            index.add(vectors[s:e], s, payloads(gallery, s, e),
                      progress=None if progress is None else (lambda d, _t, s=s: progress(s - done + d, n - done)))
        if not gallery.read_only:
            gallery.save_meta("index_state", json.dumps({"backend": "qdrant", "count": n}))
    index.limit_rows = n
    index.shas = gallery.shas()
    return index


def probe(url: str) -> None:
    """Connect to the server once (lists its collections); GalleryError with one sentence if it cannot be used."""
    client = _client(None, check_url(url))
    try:
        client.get_collections()
    except Exception as exc:  # noqa: BLE001
        raise GalleryError(server_problem(url, exc)) from None
    finally:
        client.close()


def record_index(case, gallery) -> None:
    """Write into the case's audit chain which Qdrant collection (server, points, rows searched) its
    rankings come from, when the gallery is searched through Qdrant. The rankings themselves are
    stored by the interview as with every backend."""
    if gallery.meta("index_backend") != "qdrant" or case is None:
        return
    from .index import open_index

    case.log_event("index", "index.opened", open_index(gallery).describe(len(gallery)))
