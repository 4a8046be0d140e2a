"""Simulated witnesses for the interactive benchmark (evaluation only; docs/evaluation.md "Simulated witnesses").

Every answerer has ``answer(question, record, attribute=None) -> str``: the witness of ``record``
(an annotated image) answers ``question``. ``attribute`` is the attribute a lite questioner said
the question is about (``SuggestedQuestion.attribute``); answerers that do not need it ignore it.

- ``annotated``: the annotated answer of the record's most similar annotated question (cosine of
  all-MiniLM-L6-v2 sentence embeddings); "I don't know." below a similarity threshold.
- ``memory``: the most similar sentence(s) of the record's fine-grained description (the witness's
  memory); "I don't know." below a threshold.
- ``attributes``: exact answers from the ground-truth attribute side file of a synthetic dataset
  (``attributes.json``), for the attribute the question asks about.
- ``llm:PATH_OR_URL``: paper Table 10's prompt (``resources/prompts/answerer.yaml``) with the
  fine-grained description as memory, answered by a local model (a GGUF file or a Hugging Face
  model folder, through transformers) or an OpenAI-compatible HTTP endpoint on the local network
  (``llm:http://host:8000/v1``; ``#name`` at the end picks the served model).

Build one by name with :func:`make_answerer`. The package: ``common`` (the one "don't know", the
Answerer interface), ``similarity`` (annotated, memory) with ``sentence_embedder``,
``attributes`` and ``llm``.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import UserError
from .attributes import AttributesAnswerer, question_attributes
from .common import DONT_KNOW, Answerer, is_dont_know, sentences, settle
from .llm import Generate, LLMAnswerer, build_prompt, load_answerer_prompt, tidy_generation, witness_memory
from .sentence_embedder import SentenceEmbedder, shared_sentence_embedder
from .similarity import ANNOTATED_THRESHOLD, MEMORY_THRESHOLD, AnnotatedAnswerer, MemoryAnswerer

__all__ = ["ANNOTATED_THRESHOLD", "ANSWERER_NAMES", "DONT_KNOW", "MEMORY_THRESHOLD", "AnnotatedAnswerer", "Answerer",
           "AttributesAnswerer", "Generate", "LLMAnswerer", "MemoryAnswerer", "SentenceEmbedder", "build_prompt",
           "is_dont_know", "load_answerer_prompt", "make_answerer", "question_attributes", "sentences", "settle",
           "shared_sentence_embedder", "tidy_generation", "witness_memory"]

ANSWERER_NAMES = ("annotated", "memory", "attributes", "llm:PATH_OR_URL")


def make_answerer(spec: str, attributes_path: str | Path | None = None, seed: int = 0,
                  prompt: str | Path | None = None) -> Answerer:
    """An answerer by name: ``annotated``, ``memory``, ``attributes`` (needs ``attributes_path``)
    or ``llm:PATH_OR_URL`` (``prompt``: its prompt file instead of the paper's). UserError with one
    sentence on a bad name or a missing file."""
    spec = spec.strip()
    if prompt is not None and not spec.startswith("llm:"):
        raise UserError(f"--witness-prompt sets the prompt of an llm: witness; the '{spec}' witness takes no "
                        "prompt: drop --witness-prompt or choose --answerer llm:PATH_OR_URL.")
    if spec == "annotated":
        return AnnotatedAnswerer()
    if spec == "memory":
        return MemoryAnswerer()
    if spec == "attributes":
        if attributes_path is None or not Path(attributes_path).is_file():
            where = f" ({attributes_path} does not exist)" if attributes_path else ""
            raise UserError("The 'attributes' answerer needs the ground-truth attribute file of a synthetic "
                            f"dataset{where}; give --attributes FILE or choose annotated, memory or llm:...")
        return AttributesAnswerer.from_file(attributes_path)
    if spec.startswith("llm:") and len(spec) > 4:
        return LLMAnswerer(spec[4:], seed=seed, prompt_path=prompt)
    raise UserError(f"Unknown answerer '{spec}'; choose one of: {', '.join(ANSWERER_NAMES)}.")
