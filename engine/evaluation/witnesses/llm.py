"""Paper Table 10's witness: an LLM answers from the fine-grained description as its memory.

The prompt is ``resources/prompts/answerer.yaml``; the model is a local GGUF file or Hugging Face
model folder (through transformers), or an OpenAI-compatible HTTP endpoint on the local network
(``llm:http://host:8000/v1``; ``#name`` at the end picks the served model).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from ...errors import UserError
from ..annotations import Record
from .common import DONT_KNOW, sentences, settle


def load_answerer_prompt(path: str | Path | None = None) -> dict:
    """The answerer prompt spec (default: the bundled ``resources/prompts/answerer.yaml``)."""
    import yaml  # noqa: PLC0415

    from ...paths import resources_dir  # noqa: PLC0415

    path = Path(path) if path else resources_dir() / "prompts" / "answerer.yaml"
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"Answerer prompt {path} cannot be read ({exc.__class__.__name__}).") from None
    if not isinstance(spec, dict) or "{context}" not in spec.get("template", "") \
            or "{question}" not in spec.get("template", ""):
        raise UserError(f"Answerer prompt {path} needs a 'template' with {{context}} and {{question}}.")
    return spec


def witness_memory(description: str, rewrites: dict[str, str]) -> str:
    """The fine-grained description as the witness's memory ("I saw" -> "You saw")."""
    for old, new in rewrites.items():
        description = description.replace(old, new)
    return description.strip()


def build_prompt(spec: dict, record: Record, question: str) -> str:
    """Paper Table 10's prompt for ``question`` with ``record``'s fine-grained description as memory."""
    memory = witness_memory(record.fine_grained_description, spec.get("memory_rewrites") or {})
    return spec["template"].replace("{context}", memory).replace("{question}", question.strip())


def tidy_generation(text: str) -> str:
    """The answer part of a model's continuation: first non-empty line, no "Answer:" label, no
    unfinished last sentence; "I don't know." when nothing is left."""
    lines = [ln.strip() for ln in (text or "").replace("\r", "").split("\n") if ln.strip()]
    if not lines:
        return DONT_KNOW
    line = re.sub(r"^(answer|witness|a)\s*:\s*", "", lines[0], flags=re.IGNORECASE).strip().strip('"').strip()
    parts = sentences(line)
    if len(parts) > 1 and parts[-1][-1] not in ".!?":
        parts = parts[:-1]
    out = " ".join(parts).strip()
    return out or DONT_KNOW


Generate = Callable[[str], str]  # prompt in, raw continuation out


class LLMAnswerer:
    """Paper Table 10's witness. ``target`` is a GGUF file, a Hugging Face model folder, or an
    OpenAI-compatible endpoint URL; ``generate`` (prompt -> text) replaces the backend in tests."""

    def __init__(self, target: str, seed: int = 0, prompt_path: str | Path | None = None,
                 generate: Generate | None = None):
        self.target = target
        self.name = f"llm:{target}"
        self.spec = load_answerer_prompt(prompt_path)
        self.seed = seed
        self.min_chars = int(self.spec.get("min_question_chars", 15))
        gen = self.spec.get("generation") or {}
        self.temperature = float(gen.get("temperature", 0.01))
        self.top_p = float(gen.get("top_p", 0.1))
        self.max_new_tokens = int(gen.get("max_new_tokens", 40))
        self._answers: dict[str, str] = {}
        if generate is not None:
            self._generate = generate
        elif target.startswith(("http://", "https://")):
            self._generate = self._http_backend(target)
        else:
            self._generate = self._local_backend(target)

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        if len(question.strip()) < self.min_chars:
            return DONT_KNOW
        prompt = build_prompt(self.spec, record, question)
        # Near-greedy sampling makes the answer a function of the prompt: the benchmark asks the same
        # question of the same memory for every crop of a person and every method, so generate once.
        if prompt not in self._answers:
            self._answers[prompt] = settle(tidy_generation(self._generate(prompt)))
        return self._answers[prompt]

    # backends: the same clients as the data-construction pipeline (engine/databuild/backends.py)
    def _http_backend(self, target: str) -> Generate:
        from ...databuild.backends import EndpointBackend  # noqa: PLC0415

        backend = EndpointBackend(target, temperature=self.temperature, top_p=self.top_p, timeout=120, retries=0)

        def generate(prompt: str) -> str:
            return backend.generate(prompt, None, self.max_new_tokens, self.seed)
        return generate

    def _local_backend(self, target: str) -> Generate:
        from ...databuild.backends import LocalTextBackend  # noqa: PLC0415

        path = Path(target).expanduser()
        if not path.exists():
            raise UserError(f"Answerer model {path} does not exist; give a .gguf file, a model folder, "
                            "or an http:// endpoint after 'llm:'.")
        backend = LocalTextBackend(str(path), temperature=self.temperature, top_p=self.top_p)
        backend.ready()  # a model that cannot be loaded is said before the benchmark starts
        state = {"calls": 0}

        def generate(prompt: str) -> str:
            seed = self.seed * 1_000_003 + state["calls"]  # deterministic given --seed
            state["calls"] += 1
            return backend.generate(prompt, None, self.max_new_tokens, seed)
        return generate
