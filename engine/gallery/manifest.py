"""The gallery manifest: which images a gallery held at a given size, as one hash a case can cite.

A case records the images it searched. Copying the gallery's whole image list into every case
(and hashing it) costs O(N) per case: 9 s and 89 MB at a million images. Instead the gallery keeps
a chained hash over its rows, extended as rows are added, with a checkpoint per extension in its
``manifest`` table::

    head(0) = SHA-256("interreid gallery manifest 1")
    head(b) = SHA-256(head(a) + "\\n" + "row<TAB>sha256\\n" for every row a <= row < b)

where a is the previous checkpoint. A case cites ``{"rows": n, "head": head(n)}`` (format 3). Rows are
append-only, so the n rows a case searched are the gallery's rows 0..n-1 for as long as the gallery
exists; ``verify`` recomputes the chain from the rows themselves (streaming, nothing copied) and
finds any image replaced, removed, reordered or inserted below n. Citing costs only the rows added
since the last checkpoint.

A gallery made before this table existed gets its first checkpoint the first time a case cites it
(one pass over its hashes), or from ``gallery migrate``.
"""

from __future__ import annotations

import hashlib

from ..clock import utc_now

GENESIS = hashlib.sha256(b"interreid gallery manifest 1").hexdigest()
TABLE = "CREATE TABLE IF NOT EXISTS manifest (upto INTEGER PRIMARY KEY, head TEXT NOT NULL, at TEXT NOT NULL)"
_CHUNK = 100_000


def _extend(gallery, head: str, start: int, stop: int) -> str:
    """head(stop) from head(start) over rows [start, stop), read in chunks."""
    digest = hashlib.sha256(head.encode())
    for a in range(start, stop, _CHUNK):
        b = min(stop, a + _CHUNK)
        rows = gallery.rows_between(a, b)
        if len(rows) != b - a or (rows and (rows[0][0] != a or rows[-1][0] != b - 1)):
            raise ValueError("the gallery's rows are not contiguous")
        digest.update("".join(f"\n{r}\t{s}" for r, s in rows).encode())
    return digest.hexdigest()


def checkpoints(gallery) -> list[tuple[int, str]]:
    """(rows, head) of every checkpoint, in order (empty before the first)."""
    if not gallery.has_table("manifest"):
        return []
    return [(int(u), h) for u, h in gallery.query("SELECT upto, head FROM manifest ORDER BY upto")]


def current(gallery) -> dict:
    """{"rows": n, "head": head(n)} for the gallery as it is: only the rows since the last checkpoint
    are read, and a new checkpoint is kept (not in a read-only gallery)."""
    n = len(gallery)
    cps = checkpoints(gallery)
    upto, head = cps[-1] if cps else (0, GENESIS)
    if upto > n:
        raise ValueError("the gallery's manifest names more images than the gallery holds")
    if upto < n:
        head = _extend(gallery, head, upto, n)
        if not gallery.read_only:
            with gallery.transaction():
                gallery.execute(TABLE)
                gallery.execute("INSERT OR REPLACE INTO manifest VALUES (?,?,?)", (n, head, utc_now()))
    return {"rows": n, "head": head}


def head_at(gallery, rows: int) -> str | None:
    """The head the gallery's checkpoints give for its first ``rows`` rows (None when no checkpoint is
    at that size: a case's size always is one, since citing makes it)."""
    return dict(checkpoints(gallery)).get(int(rows))


def verify(gallery, rows: int, head: str) -> str | None:
    """Recompute the chain over the gallery's first ``rows`` rows, following its checkpoints; None when
    it gives ``head``, else one sentence saying what differs."""
    rows = int(rows)
    if len(gallery) < rows:
        return f"the gallery holds {len(gallery)} images, fewer than the {rows} this case searched"
    bounds = [u for u, _h in checkpoints(gallery) if u <= rows]
    if not bounds or bounds[-1] != rows:
        return "the gallery has no record of the image list this case searched"
    h, start = GENESIS, 0
    stored = dict(checkpoints(gallery))
    try:
        for upto in bounds:
            h = _extend(gallery, h, start, upto)
            if h != stored[upto]:
                return f"the gallery's images below row {upto} are not those it recorded"
            start = upto
    except ValueError as exc:
        return str(exc)
    return None if h == head else "the gallery's image list differs from the one this case searched"


def migrate_step(gallery) -> str | None:
    """``gallery migrate``: give a gallery without a manifest its first checkpoint; one sentence, or None."""
    if checkpoints(gallery) or len(gallery) == 0 or gallery.read_only:
        return None
    ref = current(gallery)
    return (f"recorded a manifest of its {ref['rows']} images (one hash that case files cite instead of "
            "copying the image list); no image, vector or source row was changed.")
