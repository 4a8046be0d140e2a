"""The retriever interface: text in, a score for every gallery vector out.

Both engines implement it. Scores are "higher is better"; ``posterior`` turns them into the
paper's p(I_i | D_t) (Eq. 1) with the retriever's own temperature.

Two capabilities are optional and declared here as their own protocols, so callers ask
``text_encoder(retriever)`` / ``contextualiser(retriever)`` instead of probing attributes:

* :class:`TextEncoder` (``encode_text``): the scores are cosines of a text embedding with the
  gallery vectors, so the gallery index can answer a search, and the learned selector reads the
  query's embedding. The full engine's CLIP retriever has it; the lite retriever does not.
* :class:`Contextualiser` (``contextualise``): a bare answer ("Black.") is made self-contained
  with its question before it joins the query. The lite retriever has it; CLIP does not.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from .embedder import EmbedderIdentity


class Retriever(Protocol):
    identity: EmbedderIdentity
    #: scores are divided by this before the softmax of Eq. 1 (0.02 for CLIP cosines, 1.0 for
    #: log-likelihoods).
    temperature: float

    def score(self, query: str, vectors: np.ndarray) -> np.ndarray:
        """Score every row of ``vectors`` (N, D) for the text ``query``. Returns float32 (N,)."""
        ...

    def explain(self, query: str, vector: np.ndarray) -> str:
        """One short line saying why this image matches, e.g. "upper: red 0.62, lower: blue 0.48"."""
        ...


@runtime_checkable
class TextEncoder(Protocol):
    """Optional: a retriever whose ``score`` is the cosine of ``encode_text(query)`` with each vector."""

    def encode_text(self, texts: str | Sequence[str]) -> np.ndarray:
        """Texts -> float32 (N, D), rows L2-normalised (the same space as the gallery vectors)."""
        ...


@runtime_checkable
class Contextualiser(Protocol):
    """Optional: a retriever that rewrites a short answer with its question's subject."""

    def contextualise(self, question: str, answer: str, cleaned: str, attribute: str | None = None) -> str:
        """``cleaned`` (the cleaned answer) made self-contained, e.g. "Black." -> "black shoes"."""
        ...


@runtime_checkable
class Reconciler(Protocol):
    """Optional: a retriever that marks an answer contradicting what the witness said before, so that it
    weighs less and is shown as a contradiction (the lite engine)."""

    def reconcile(self, before: str, text: str, question: str = "", attribute: str | None = None) -> str:
        """``text`` (an answer as it joins the query, to ``question`` about ``attribute`` when known) marked
        when it contradicts ``before`` (the query so far) or repeats it unasked."""
        ...


@runtime_checkable
class Understander(Protocol):
    """Optional: a retriever that can say which constraints it took from a statement, and remove one
    from the query when the investigator corrects it (the lite engine)."""

    def understand(self, text: str, before: str = "") -> tuple[list[tuple[str, str]], list[str]]:
        """([(key, label)] such as ("upper black +", "top: black (sure)"), words it could not use);
        ``before``: the statements that joined the query before this one."""
        ...

    def drop_marker(self, key: str) -> str:
        """Query text that removes the constraint ``key``."""
        ...


@runtime_checkable
class TopRefiner(Protocol):
    """Optional: a retriever whose ``score`` is a fast approximation, made exact on the top rows (the
    lite engine's block-scored log-likelihood, engine/lite/fast_score.py)."""

    def refine_top(self, query: str, vectors: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the best ``k`` rows, best first, scored exactly; ``scores`` are the fast ones."""
        ...


def text_encoder(retriever) -> TextEncoder | None:
    """The retriever as a :class:`TextEncoder`, or None when it has no text embedding."""
    return retriever if isinstance(retriever, TextEncoder) else None


def top_refiner(retriever) -> TopRefiner | None:
    """The retriever as a :class:`TopRefiner`, or None when its scores are exact already."""
    return retriever if isinstance(retriever, TopRefiner) else None


def contextualiser(retriever) -> Contextualiser | None:
    """The retriever as a :class:`Contextualiser`, or None when it adds no context to answers."""
    return retriever if isinstance(retriever, Contextualiser) else None


def reconciler(retriever) -> Reconciler | None:
    """The retriever as a :class:`Reconciler`, or None when it does not compare answers with earlier words."""
    return retriever if isinstance(retriever, Reconciler) else None


def understander(retriever) -> Understander | None:
    """The retriever as an :class:`Understander`, or None when it reads free text it cannot explain."""
    return retriever if isinstance(retriever, Understander) else None


def posterior(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of ``scores / temperature`` (paper Eq. 1), float64, sums to 1."""
    z = np.asarray(scores, dtype=np.float64) / float(temperature)
    z -= z.max()
    p = np.exp(z)
    return p / p.sum()


def relative_match(scores: np.ndarray, best: float, temperature: float) -> np.ndarray:
    """Scores as a match percentage relative to the best image of the ranking: 100 for the best,
    50 for an image half as likely as the best to be the person described (same temperature as
    ``posterior``). It compares images of one search; it is not a probability of identity."""
    z = (np.asarray(scores, dtype=np.float64) - float(best)) / float(temperature)
    return 100.0 * np.exp(np.minimum(z, 0.0))
