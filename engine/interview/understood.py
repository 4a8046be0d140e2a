"""What the engine understood from each statement of an interview: one reading for the interview's chips and
CLI lines (``Interview.understood``) and the case report (``report.data``), so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence

from ..retriever import understander
from .protocols import Turn
from .query import statement_texts


def understood_statements(retriever, initial: str, dialogue: Sequence[Turn], corrections: Sequence[dict]
                          ) -> list[dict]:
    """Per statement (the description, then each answer as it joined the query, then each correction that
    says what is right instead), each read in the light of the statements before it:

    ``{"round": 0 | i (the i-th answer) | "correction", "said": the words, "constraints": labels kept,
    "keys": their keys, "removed": labels the investigator removed, "unused": words it could not use,
    "items": [(key, label, removed)] in the engine's order, "correction": the correction (its dict) or None}``.

    ``corrections``: the investigator's, ``{"remove": key, "add": text, "round": n, ...}``. Empty when the
    retriever reads free text it cannot explain."""
    reader = understander(retriever)
    if reader is None:
        return []
    removed = {c["remove"] for c in corrections if c.get("remove")}
    texts = statement_texts(initial, dialogue, retriever)
    statements = [(i, texts[0] if i == 0 else turn.answer, texts[i], " ".join(t for t in texts[:i] if t), None)
                  for i, turn in enumerate([None, *dialogue])]
    statements += [("correction", c["add"], c["add"], "", c) for c in corrections if c.get("add")]
    out = []
    for i, said, text, before, correction in statements:
        items, unused = reader.understand(text, before)
        marked = [(k, label, k in removed) for k, label in items]
        out.append({"round": i, "said": said, "constraints": [label for _k, label, gone in marked if not gone],
                    "keys": [k for k, _label, gone in marked if not gone],
                    "removed": [label for _k, label, gone in marked if gone], "unused": unused,
                    "items": marked, "correction": correction})
    return out
