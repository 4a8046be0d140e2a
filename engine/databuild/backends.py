"""Model backends for the construction pipeline: one ``generate(prompt, image, max_tokens, seed)``.

- :class:`EndpointBackend`: an OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp's server,
  ...), only when the user names one; the image goes inline as a base64 data URL.
- :class:`LocalTextBackend`: a GGUF file or a Hugging Face causal-LM folder, through transformers
  (steps 2-3 only: it cannot see images).
- :class:`LocalVisionBackend`: a Hugging Face image-text-to-text folder (LLaVA-OneVision,
  Qwen2-VL, ...), through transformers' processor and chat template.

Each has ``identity`` (what every record says produced it), ``vision`` (whether it can caption
images) and ``parallel`` (how many requests it may serve at once). Nothing reaches the network
except an endpoint the user gave.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import UserError
from ..hashing import sha256_file, sha256_json

API_KEY_ENV = "INTERREID_ENDPOINT_KEY"


class EndpointBackend:
    """``url`` like ``http://host:8000/v1`` (``#name`` at the end picks the served model)."""

    vision = True

    def __init__(self, target: str, temperature: float = 0.2, top_p: float = 0.9, timeout: float = 300.0,
                 retries: int = 2):
        url, _, model = target.partition("#")
        if not url.startswith(("http://", "https://")):
            raise UserError(f"The endpoint '{target}' is not an http:// or https:// address; give one such as "
                            "http://127.0.0.1:8000/v1.")
        url = url.rstrip("/")
        if not url.endswith("/chat/completions"):
            url += "/chat/completions" if url.endswith("/v1") else "/v1/chat/completions"
        self.url, self.model = url, model or "default"
        self.temperature, self.top_p, self.timeout, self.retries = temperature, top_p, timeout, retries
        self.identity = {"backend": "endpoint", "url": url, "model": self.model}
        # the cache knows a served model by its name, so a server restarted on another port is the same
        self.cache_identity = {"backend": "endpoint", "model": self.model}
        self.parallel = 8

    def generate(self, prompt: str, image: bytes | None, max_tokens: int, seed: int) -> str:
        content: object = prompt
        if image is not None:
            b64 = base64.b64encode(image).decode("ascii")
            content = [{"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{b64}"}},
                       {"type": "text", "text": prompt}]
        body = {"model": self.model, "messages": [{"role": "user", "content": content}],
                "temperature": self.temperature, "top_p": self.top_p, "max_tokens": int(max_tokens), "seed": seed}
        headers = {"Content-Type": "application/json"}
        if os.environ.get(API_KEY_ENV):
            headers["Authorization"] = f"Bearer {os.environ[API_KEY_ENV]}"
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(self.url, data=json.dumps(body).encode(), method="POST", headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    data = json.loads(resp.read().decode("utf-8"))
                return str(data["choices"][0]["message"]["content"] or "")
            except urllib.error.HTTPError as exc:
                if exc.code >= 500 and attempt < self.retries:
                    time.sleep(0.5 * 2 ** attempt)
                    continue
                raise UserError(f"The endpoint {self.url} refused the request (HTTP {exc.code}); check that it "
                                "serves an OpenAI-compatible chat API" +
                                (" that accepts images." if image is not None else ".")) from None
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                if attempt < self.retries:
                    time.sleep(0.5 * 2 ** attempt)
                    continue
                reason = getattr(exc, "reason", exc)
                raise UserError(f"The endpoint {self.url} cannot be reached ({reason}); check the address and "
                                "that the server is running. Finished work is kept; run again to continue.") from None
            except (KeyError, IndexError, TypeError, ValueError):
                raise UserError(f"The endpoint {self.url} did not answer like an OpenAI-compatible chat API "
                                "(no choices[0].message.content).") from None
        raise AssertionError("unreachable")


# what decides a folder model's output: its config, weights, tokenizer and chat template (not its README)
_MODEL_FILES = ("*.json", "*.safetensors", "*.bin", "*.pt", "*.pth", "*.gguf", "*.model", "*.jinja", "*.txt")


def _model_hash(path: Path) -> str:
    """SHA-256 of a model file, or of a folder's config, weights, tokenizer and template files
    (name and SHA-256 of each): a fine-tuned copy of a model has the same config.json, so the config
    alone would let the build's cache hand one model's text to another. Read once per build."""
    if path.is_file():
        return sha256_file(path)
    files = sorted({f for pattern in _MODEL_FILES for f in path.glob(pattern) if f.is_file()})
    return sha256_json([[f.name, sha256_file(f)] for f in files]) if files else ""


class _LocalBase:
    parallel = 1  # one model in memory, one generation at a time

    def __init__(self, target: str, kind: str, temperature: float, top_p: float,
                 repetition_penalty: float | None = None):
        self.path = Path(target).expanduser()
        self.repetition_penalty = repetition_penalty
        if not self.path.exists():
            raise UserError(f"Model {self.path} does not exist; give a .gguf file or a model folder.")
        self.temperature, self.top_p = temperature, top_p
        self.identity = {"backend": kind, "name": self.path.name, "sha256": _model_hash(self.path)}
        self._lock = threading.Lock()
        self._loaded = None

    def ready(self) -> None:
        """Load the model now, so a model that cannot be loaded is said before any work starts."""
        self._load()

    def _sample_kwargs(self) -> dict:
        extra = {"repetition_penalty": self.repetition_penalty} if self.repetition_penalty else {}
        if self.temperature <= 0:
            return {"do_sample": False, **extra}
        return {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p, **extra}


class LocalTextBackend(_LocalBase):
    """A GGUF file (transformers ``gguf_file=``) or a causal-LM folder. Text only."""

    vision = False

    def __init__(self, target: str, temperature: float = 0.2, top_p: float = 0.9,
                 repetition_penalty: float | None = None):
        super().__init__(target, "gguf" if str(target).lower().endswith(".gguf") else "hf-text", temperature, top_p,
                         repetition_penalty)
        if self.path.is_file() and self.path.suffix.lower() != ".gguf":
            raise UserError(f"Model {self.path} is a file but not a .gguf model; give a .gguf file or a model folder.")

    def _load(self):
        if self._loaded is None:
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError:
                raise UserError("Local models need torch and transformers; install them or use an http:// endpoint.") from None
            if self.path.is_file():
                folder, kw = str(self.path.parent), {"gguf_file": self.path.name}
            else:
                folder, kw = str(self.path), {"local_files_only": True}
            try:
                tok = AutoTokenizer.from_pretrained(folder, **kw)
                model = AutoModelForCausalLM.from_pretrained(folder, **kw).eval()
            except Exception as exc:  # noqa: BLE001
                raise UserError(f"Model {self.path} cannot be loaded ({exc.__class__.__name__}: "
                                f"{str(exc).splitlines()[0][:120]}).") from None
            self._loaded = (torch, tok, model)
        return self._loaded

    def generate(self, prompt: str, image: bytes | None, max_tokens: int, seed: int) -> str:
        if image is not None:
            raise UserError(f"The text model {self.path.name} cannot describe images; give --endpoint or --vlm "
                            "for step 1, or start from existing descriptions.")
        with self._lock:
            torch, tok, model = self._load()
            if getattr(tok, "chat_template", None):
                ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                              return_tensors="pt", return_dict=True)
            else:
                ids = tok(prompt, return_tensors="pt")
            torch.manual_seed(seed)
            with torch.no_grad():
                out = model.generate(**ids, max_new_tokens=int(max_tokens), **self._sample_kwargs(),
                                     pad_token_id=tok.pad_token_id or tok.eos_token_id)
            return tok.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)


class LocalVisionBackend(_LocalBase):
    """A Hugging Face image-text-to-text model folder (processor with a chat template)."""

    vision = True

    def __init__(self, target: str, temperature: float = 0.2, top_p: float = 0.9,
                 repetition_penalty: float | None = None):
        super().__init__(target, "hf-vlm", temperature, top_p, repetition_penalty)
        if not self.path.is_dir():
            raise UserError(f"Vision-language model {self.path} is not a folder; give a Hugging Face model folder.")

    def _load(self):
        if self._loaded is None:
            try:
                import torch
                from transformers import AutoModelForImageTextToText, AutoProcessor
            except ImportError:
                raise UserError("Local models need torch and transformers; install them or use an http:// endpoint.") from None
            try:
                processor = AutoProcessor.from_pretrained(str(self.path), local_files_only=True)
                model = AutoModelForImageTextToText.from_pretrained(str(self.path), local_files_only=True).eval()
            except Exception as exc:  # noqa: BLE001
                raise UserError(f"Vision-language model {self.path} cannot be loaded ({exc.__class__.__name__}: "
                                f"{str(exc).splitlines()[0][:120]}).") from None
            self.completed = complete_processor(processor, model.config)
            self._loaded = (torch, processor, model)
        return self._loaded

    def generate(self, prompt: str, image: bytes | None, max_tokens: int, seed: int) -> str:
        import io

        from PIL import Image

        with self._lock:
            torch, processor, model = self._load()
            text = self._chat_text(processor, prompt, image is not None)
            images = [Image.open(io.BytesIO(image)).convert("RGB")] if image is not None else None
            try:
                inputs = processor(images=images, text=text, return_tensors="pt")
                torch.manual_seed(seed)
                with torch.no_grad():
                    out = model.generate(**inputs, max_new_tokens=int(max_tokens), **self._sample_kwargs())
            except Exception as exc:  # noqa: BLE001  (the user's model: say which and why, in one sentence)
                raise UserError(f"Vision-language model {self.path} failed to describe an image "
                                f"({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]}).") from None
            tok = getattr(processor, "tokenizer", processor)
            return tok.decode(out[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)

    @staticmethod
    def _chat_text(processor, prompt: str, with_image: bool) -> str:
        """The chat prompt: the processor's multimodal template, or, for a model whose template
        only takes text, the image token before the instruction."""
        content = ([{"type": "image"}] if with_image else []) + [{"type": "text", "text": prompt}]
        try:
            return processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        except Exception:  # noqa: BLE001  (a text-only template: fall back to the image token)
            token = getattr(processor, "image_token", None) or "<image>"
            flat = f"{token}\n{prompt}" if with_image else prompt
            return processor.apply_chat_template([{"role": "user", "content": flat}], add_generation_prompt=True)


def complete_processor(processor, config) -> dict:
    """Fill in, from the model's own config, what the processor needs to count image tokens when
    the folder does not say it, and return what was filled in.

    A folder saved as model + tokenizer + image processor, without ``processor_config.json``
    (what ``save_pretrained`` of the parts writes, and what older exports have), gives a LLaVA-style
    processor with ``num_image_tokens``/``patch_size``/``vision_feature_select_strategy`` of
    ``None``: it then fails on the first image ("must be real number, not NoneType"). The model
    config has the answers: the vision tower's patch grid and the feature strategy. The tiling of
    any-resolution models (``image_grid_pinpoints``) is the model's: a processor left with the
    library's defaults cuts images the model cannot put back together, so it follows the model."""
    vision = getattr(config, "vision_config", None)
    filled: dict = {}

    def fill(obj, name, value):
        if value is not None and hasattr(obj, name) and getattr(obj, name) is None:
            setattr(obj, name, value)
            filled[name] = value

    fill(processor, "vision_feature_select_strategy", getattr(config, "vision_feature_select_strategy", None))
    if vision is not None and getattr(vision, "image_size", None) and getattr(vision, "patch_size", None):
        fill(processor, "patch_size", vision.patch_size)
        fill(processor, "num_image_tokens", (vision.image_size // vision.patch_size) ** 2)
    pinpoints = getattr(config, "image_grid_pinpoints", None)
    image_processor = getattr(processor, "image_processor", None)
    if pinpoints and image_processor is not None and hasattr(image_processor, "image_grid_pinpoints"):
        if [list(p) for p in image_processor.image_grid_pinpoints or []] != [list(p) for p in pinpoints]:
            image_processor.image_grid_pinpoints = [list(p) for p in pinpoints]
            filled["image_grid_pinpoints"] = len(pinpoints)
    return filled
