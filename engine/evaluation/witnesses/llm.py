"""Paper Table 10's witness: an LLM answers from the fine-grained description as its memory.

The prompt is ``resources/prompts/answerer.yaml``; the model is a local GGUF file or Hugging Face
model folder (through transformers), or an OpenAI-compatible HTTP endpoint on the local network
(``llm:http://host:8000/v1``; ``#name`` at the end picks the served model).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
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

    # backends
    def _http_backend(self, target: str) -> Generate:
        url, _, model = target.partition("#")
        url = url.rstrip("/")
        if not url.endswith("/chat/completions"):
            url += "/chat/completions" if url.endswith("/v1") else "/v1/chat/completions"

        def generate(prompt: str) -> str:
            body = {"model": model or "default", "messages": [{"role": "user", "content": prompt}],
                    "temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_new_tokens,
                    "seed": self.seed}
            req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=120) as resp:
                    data = json.loads(resp.read().decode("utf-8"))
                return data["choices"][0]["message"]["content"] or ""
            except urllib.error.HTTPError as exc:
                raise UserError(f"The answerer endpoint {url} refused the request (HTTP {exc.code}); "
                                "check that it serves an OpenAI-compatible chat API.") from None
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise UserError(f"The answerer endpoint {url} cannot be reached ({reason}); "
                                "check the address and that the server is running.") from None
            except (KeyError, IndexError, TypeError, ValueError):
                raise UserError(f"The answerer endpoint {url} did not answer like an OpenAI-compatible "
                                "chat API (no choices[0].message.content).") from None
        return generate

    def _local_backend(self, target: str) -> Generate:
        path = Path(target).expanduser()
        if not path.exists():
            raise UserError(f"Answerer model {path} does not exist; give a .gguf file, a model folder, "
                            "or an http:// endpoint after 'llm:'.")
        try:
            import torch  # noqa: PLC0415
            from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415
        except ImportError:
            raise UserError("The local LLM answerer needs torch and transformers; install them or use an "
                            "http:// endpoint.") from None
        try:
            if path.is_file():
                if path.suffix.lower() != ".gguf":
                    raise UserError(f"Answerer model {path} is a file but not a .gguf model; give a .gguf "
                                    "file or a model folder.")
                kw = {"gguf_file": path.name}
                folder = str(path.parent)
            else:
                kw = {"local_files_only": True}
                folder = str(path)
            tokenizer = AutoTokenizer.from_pretrained(folder, **kw)
            model = AutoModelForCausalLM.from_pretrained(folder, **kw).eval()
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise UserError(f"Answerer model {path} cannot be loaded ({exc.__class__.__name__}: "
                            f"{str(exc).splitlines()[0][:120]}).") from None
        chat = getattr(tokenizer, "chat_template", None) is not None
        state = {"calls": 0}

        def generate(prompt: str) -> str:
            if chat:
                ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                                    return_tensors="pt", return_dict=True)
            else:
                ids = tokenizer(prompt, return_tensors="pt")
            torch.manual_seed(self.seed * 1_000_003 + state["calls"])  # deterministic given --seed
            state["calls"] += 1
            with torch.no_grad():
                out = model.generate(**ids, max_new_tokens=self.max_new_tokens, do_sample=True,
                                     temperature=self.temperature, top_p=self.top_p,
                                     pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
            return tokenizer.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)
        return generate
