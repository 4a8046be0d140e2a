"""Simulated witnesses: moved to the :mod:`engine.evaluation.witnesses` package.

This module keeps the old import path working; import from ``engine.evaluation.witnesses``.
"""

from __future__ import annotations

from .witnesses import (ANNOTATED_THRESHOLD, ANSWERER_NAMES, DONT_KNOW, MEMORY_THRESHOLD,  # noqa: F401
                        AnnotatedAnswerer, Answerer, AttributesAnswerer, Generate, LLMAnswerer, MemoryAnswerer,
                        SentenceEmbedder, build_prompt, is_dont_know, load_answerer_prompt, make_answerer,
                        question_attributes, sentences, settle, shared_sentence_embedder, tidy_generation,
                        witness_memory)
from .witnesses.attributes import _PHRASES, _colour_terms, _confirms, _is_yes_no  # noqa: F401
from .witnesses.sentence_embedder import _minilm_dir  # noqa: F401
