"""Synthetic CLIP-like vectors with the structure of real person crops (``--model people``, the default).

Why not clusters: the first generator (``clusters``, kept for comparison) puts about 512 rows around
each random centre and adds isotropic noise. A query's top 200 beyond its own cluster is then a
near-random tail ordered by noise in all 512 dimensions, which no approximate search can recover
(and which no real gallery has): recall@200 of any prefilter measures the noise, not the search.
Real CLIP features of person crops are different:

* **low effective dimension**: most of the variance is in a few dozen directions (what people wear,
  carry and look like), not spread over 512;
* **people share attributes**: many people wear a black jacket or blue jeans, so the rows near a query
  are the people who match its description, in order of how many attributes they share;
* **a few crops per person** (4-10 here, as a tracker keeps a person over a few frames or cameras),
  close to each other but not identical (pose, viewpoint, light);
* **a common direction**: every image feature shares a large mean component.

So each synthetic person is the sum of one value per attribute (sex, upper and lower colour and
type, bag, hair, age; value frequencies uneven, as in a city), a person-specific part in a 64-d
subspace, and per crop a pose/viewpoint part in an 8-d subspace plus small isotropic noise, all on
top of a shared mean; rows of one person are consecutive (as an import of a tracked video writes
them). Cosine between crops of one person is about 0.95, between two people about 0.55 (1 % of pairs
above 0.79), and 90 % of the variance is in about 55 directions.

When a model pack's text tower is given, the attribute values are the text tower's embeddings of
phrases naming them ("a red jacket"), centred on their mean: a description then scores the rows
that wear what it says higher, as a trained CLIP model's text and image towers agree. Without it
(tests, the index rows of ``bench speed``) the values are random directions in a 32-d subspace.
"""

from __future__ import annotations

import numpy as np

from ..embedder import l2_normalise

#: the attributes a person has, and the phrases naming each value (for the text tower's anchors)
ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sex", ("a man", "a woman")),
    ("upper colour", tuple(f"a {c} jacket" for c in ("black", "white", "grey", "red", "blue", "green", "yellow",
                                                      "brown", "pink", "purple", "orange", "beige"))),
    ("lower colour", tuple(f"{c} trousers" for c in ("black", "blue", "grey", "white", "brown", "beige", "green",
                                                      "red", "khaki", "navy"))),
    ("upper type", ("a t-shirt", "a jacket", "a coat", "a hoodie", "a shirt", "a dress")),
    ("lower type", ("jeans", "trousers", "shorts", "a skirt")),
    ("bag", ("no bag", "a backpack", "a handbag")),
    ("hair", ("short hair", "long hair", "a hat")),
    ("age", ("a child", "a teenager", "a young adult", "a middle-aged person", "an elderly person")),
)
ATTRIBUTE_RANK = 32  # random attribute values live in this many dimensions
PERSON_RANK = 64
POSE_RANK = 8
ATTRIBUTE_NORM = 0.55  # each attribute value's length (the shared mean has length 1)
PERSON_NORM = 0.45
POSE_NORM = 0.3
NOISE_NORM = 0.25
CROPS_PER_PERSON = (4, 10)


def phrases() -> list[str]:
    """Every attribute value's phrase, in ATTRIBUTES order (what a text tower embeds for the anchors)."""
    return [p for _name, values in ATTRIBUTES for p in values]


class PeopleModel:
    """The generator (see the module docstring); ``anchors`` (len(phrases()), dim) are the text
    tower's embeddings of ``phrases()``, or None for random attribute directions."""

    def __init__(self, dim: int, seed: int = 0, anchors: np.ndarray | None = None):
        rng = np.random.default_rng(seed)
        self.dim = dim
        self.cards = [len(values) for _name, values in ATTRIBUTES]
        # subspace sizes (smaller in a small test dimension, so each part keeps some directions)
        a_rank, p_rank = min(ATTRIBUTE_RANK, dim // 4), min(PERSON_RANK, dim // 2)
        pose_rank = max(1, min(POSE_RANK, dim - a_rank - p_rank))
        basis = np.linalg.qr(rng.standard_normal((dim, a_rank + p_rank + pose_rank)))[0]
        basis = basis.T.astype(np.float32)  # orthonormal rows
        self.attribute_basis = basis[:a_rank]
        self.person_basis = basis[a_rank:a_rank + p_rank]
        self.pose_basis = basis[a_rank + p_rank:]
        self.mean = l2_normalise(rng.standard_normal((1, dim)).astype(np.float32))[0]
        if anchors is not None:
            anchors = np.asarray(anchors, dtype=np.float32)
            if anchors.shape != (sum(self.cards), dim):
                raise ValueError(f"anchors must be ({sum(self.cards)}, {dim}): one per phrase")
            centred = anchors - anchors.mean(axis=0)
            values = l2_normalise(centred) * np.float32(ATTRIBUTE_NORM)
            # images sit on their own cone, partly towards the texts (a trained model's towers agree)
            self.mean = l2_normalise((self.mean + 0.5 * l2_normalise(anchors.mean(axis=0)[None])[0])[None])[0]
        else:
            z = rng.standard_normal((sum(self.cards), a_rank)).astype(np.float32)
            values = (z @ self.attribute_basis) * np.float32(ATTRIBUTE_NORM / np.sqrt(a_rank))
        splits = np.cumsum(self.cards)[:-1]
        self.tables = np.split(values.astype(np.float32), splits)
        self.frequencies = [rng.dirichlet(np.full(c, 2.0)) for c in self.cards]

    def people(self, rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
        """``m`` people: their attribute values (m, attributes) and their vectors before pose and noise."""
        values = np.stack([rng.choice(c, m, p=p) for c, p in zip(self.cards, self.frequencies)], axis=1)
        v = np.zeros((m, self.dim), dtype=np.float32)
        for j, table in enumerate(self.tables):
            v += table[values[:, j]]
        own = rng.standard_normal((m, len(self.person_basis))).astype(np.float32)
        v += (own * np.float32(PERSON_NORM / np.sqrt(len(self.person_basis)))) @ self.person_basis
        return values, v

    def rows(self, rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
        """``m`` crop vectors (L2-normalised float32) and the person (0..) each belongs to; a person's
        crops are consecutive."""
        sizes: list[int] = []
        total = 0
        while total < m:
            sizes.append(int(rng.integers(CROPS_PER_PERSON[0], CROPS_PER_PERSON[1] + 1)))
            total += sizes[-1]
        _values, persons = self.people(rng, len(sizes))
        who = np.repeat(np.arange(len(sizes)), sizes)[:m]
        pose = rng.standard_normal((m, len(self.pose_basis))).astype(np.float32)
        x = self.mean + persons[who]
        x += (pose * np.float32(POSE_NORM / np.sqrt(len(self.pose_basis)))) @ self.pose_basis
        x += rng.standard_normal((m, self.dim)).astype(np.float32) * np.float32(NOISE_NORM / np.sqrt(self.dim))
        return l2_normalise(x), who

    def descriptions(self, rng: np.random.Generator, m: int, share: float = 0.6) -> np.ndarray:
        """``m`` description-like query vectors without a text tower: the attribute values of a random
        person, each said with probability ``share``, off the image cone (a text embedding's own
        mean) plus a little noise. For recall checks of an index against exact search."""
        values, _v = self.people(rng, m)
        said = rng.random(values.shape) < share
        q = np.zeros((m, self.dim), dtype=np.float32)
        for j, table in enumerate(self.tables):
            q += table[values[:, j]] * said[:, j:j + 1]
        text_mean = l2_normalise(np.random.default_rng(7).standard_normal((1, self.dim)).astype(np.float32))[0]
        q += 0.5 * self.mean + text_mean
        q += rng.standard_normal((m, self.dim)).astype(np.float32) * np.float32(0.3 / np.sqrt(self.dim))
        return l2_normalise(q)
