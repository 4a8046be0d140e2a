"""Per-row facts of a gallery read when a round needs them, not all at open.

Opening a gallery of millions of rows must not read every hash (or every track) into memory: an
interview round needs the hashes of a handful of candidates and the tracks of its top 200. These
views answer by row from the database (a primary-key lookup each) and remember what they read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence



class RowShas(Sequence):
    """The gallery's image hashes in row order, as a read-only sequence that reads rows on demand
    (``len`` is the gallery's size when the view was made; iteration reads them all, in order)."""

    def __init__(self, gallery):
        self.gallery = gallery
        self._n = len(gallery)
        self._known: dict[int, str] = {}

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, row):
        if isinstance(row, slice):
            return self.many(range(*row.indices(self._n)))
        row = int(row)
        if row < 0:
            row += self._n
        if not 0 <= row < self._n:
            raise IndexError(f"no image at row {row}")
        if row not in self._known:
            self.many([row])
        return self._known[row]

    def many(self, rows) -> list[str]:
        """The hashes of several rows (one query per 500 rows not read before)."""
        rows = [int(r) for r in rows]
        todo = sorted({r for r in rows if r not in self._known})
        self._known.update(self.gallery.shas_of_rows(todo))
        return [self._known[r] for r in rows]

    def __iter__(self) -> Iterator[str]:
        yield from self.gallery.iter_shas(self._n)

    def __contains__(self, sha) -> bool:
        row = self.gallery.row_of(str(sha))
        return row is not None and row < self._n

    def index(self, sha, *_args) -> int:
        row = self.gallery.row_of(str(sha))
        if row is None or row >= self._n:
            raise ValueError(f"{sha} is not in this gallery")
        return row


class RowFacts:
    """Camera and time of gallery rows, read by row when a list needs them (the app's grid filters the
    images it lists, at most a ranking's kept top or a first page of the gallery), remembered once read.
    ``cameras`` and ``timestamps`` are row-indexed read-only sequences over the same reads."""

    def __init__(self, gallery):
        self.gallery = gallery
        self._n = len(gallery)
        self._known: dict[int, tuple[str | None, str | None]] = {}
        self.cameras = _FactColumn(self, 0)
        self.timestamps = _FactColumn(self, 1)

    def __len__(self) -> int:
        return self._n

    def many(self, rows) -> list[tuple[str | None, str | None]]:
        """(camera, timestamp) of several rows (one query per 500 rows not read before)."""
        rows = [int(r) for r in rows]
        todo = sorted({r for r in rows if r not in self._known and 0 <= r < self._n})
        if todo:
            found = self.gallery.facts_of_rows(todo)
            self._known.update({r: found.get(r, (None, None)) for r in todo})
        return [self._known.get(r, (None, None)) for r in rows]


class _FactColumn(Sequence):
    def __init__(self, facts: RowFacts, column: int):
        self.facts = facts
        self.column = column

    def __len__(self) -> int:
        return len(self.facts)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return self.many(range(*row.indices(len(self))))
        row = int(row)
        if not 0 <= row < len(self):
            raise IndexError(f"no image at row {row}")
        return self.facts.many([row])[0][self.column]

    def many(self, rows) -> list[str | None]:
        return [f[self.column] for f in self.facts.many(rows)]

    def __iter__(self) -> Iterator[str | None]:  # every row: for small galleries and tests only
        for start in range(0, len(self), 50_000):
            yield from self.many(range(start, min(len(self), start + 50_000)))
