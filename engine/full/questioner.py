"""The LLaVA-ReID questioner: LLaVA-OneVision + a LoRA adapter, from a model pack (paper §4.2).

On CUDA the base loads in 4-bit NF4 with double quantisation and bf16 compute (bitsandbytes), the
vision tower, projector and output layer left in bf16; the LoRA adapter (peft) sits on the language
model's linear layers. On a CPU the same code runs in float32 (``quantize: "4bit"`` in the pack's
questioner config forces bitsandbytes' CPU 4-bit) with a warning: it is slow for the 7B model.

Loading is slow, so it is separate from construction: ``LlavaQuestioner(...)`` is instant,
:meth:`LlavaQuestioner.load` loads (blocking, once), :meth:`LlavaQuestioner.start_loading` loads
in a background thread. Until the model is loaded, and whenever it fails to give a new question
(no question in its output, or an exact repeat after ``repeat_retries`` resamples), ``ask`` falls
back to the ``infogain`` questioner and says so in the suggestion's rationale.

A questioner converted from the authors' checkpoint carries ``"layout": "llava-reid"`` (and its own
prompt, ``"prompt": "questioner-llava-reid.yaml"``) in the pack's questioner config: its images are
padded to squares and arranged as the authors trained them (:func:`llava_inputs.encode_images_llava_reid`).
"""

from __future__ import annotations

import threading
import time
import warnings
from pathlib import Path

from ..errors import ModelPackError
from ..interview.protocols import QuestionContext, SuggestedQuestion, Turn
from .components import MissingComponentError, component_config, component_dir
from .manifest import pack_name
from .lite_view import lite_view
from .prompt import PromptSpec, clean_question, load_prompt_spec, normalise_question, render_prompt
from .questioner_build import questioner_defaults

BASE_DIR = "base"
ADAPTER_DIR = "adapter"
_YESNO = ("is ", "are ", "was ", "were ", "does ", "do ", "did ", "has ", "have ", "had ", "can ", "could ")


def question_kind(question: str) -> str:
    """descriptive | yesno | choice, from the question's wording."""
    q = question.strip().lower()
    if q.startswith(_YESNO):
        return "choice" if " or " in q else "yesno"
    return "descriptive"


class LlavaQuestioner:
    """Questioner over a LLaVA-OneVision base folder (HF format) and an optional LoRA adapter folder.

    ``settings`` override ``resources/models/llava-questioner.json`` (max_new_tokens, do_sample,
    top_p, seed, repeat_retries, pool, image_newline, quantize = auto | 4bit | none). ``fallback``
    is the questioner used when LLaVA cannot answer (default: the lite ``infogain`` questioner).
    """

    name = "llava"

    def __init__(self, base_dir: Path, adapter_dir: Path | None = None, settings: dict | None = None,
                 device: str | None = None, prompt: PromptSpec | None = None, fallback=None):
        self.base_dir = Path(base_dir)
        self.adapter_dir = Path(adapter_dir) if adapter_dir else None
        self.settings = {**questioner_defaults(), **(settings or {})}
        self.prompt = prompt or load_prompt_spec(_prompt_path(self.settings.get("prompt")))
        self.reid_layout = self.settings.get("layout", "llava-ov") == "llava-reid"
        self.requested_device = device
        self.notes: list[str] = []
        self.load_error: Exception | None = None
        self.load_seconds: float | None = None
        self._fallback = fallback
        self._fallback_is_lite = False  # True for the lite infogain, which reads lite colour vectors
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.model = None  # the (peft-wrapped) model once loaded
        self.tokenizer = None

    # -- loading -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self.model is not None

    def load(self) -> "LlavaQuestioner":
        """Load tokenizer, base model and adapter (once; thread-safe). Raises ModelPackError."""
        with self._lock:
            if self.model is None:
                tick = time.perf_counter()
                try:
                    self._load()
                except ModelPackError as exc:
                    self.load_error = exc
                    raise
                except (OSError, ValueError, RuntimeError, KeyError) as exc:
                    self.load_error = exc
                    raise ModelPackError(f"The questioner in {self.base_dir.parent} cannot be loaded ({exc}); "
                                         "reinstall the model pack or use the infogain questioner.") from exc
                self.load_seconds = time.perf_counter() - tick
        return self

    def start_loading(self) -> threading.Thread:
        """Load in a daemon thread (for the desktop app); ``ask`` uses infogain until it is done."""
        if self._thread is None:
            def run():
                try:
                    self.load()
                except Exception:  # noqa: BLE001 — recorded in load_error, reported by ask()
                    pass
            self._thread = threading.Thread(target=run, name="llava-questioner-load", daemon=True)
            self._thread.start()
        return self._thread

    def _load(self) -> None:
        import torch
        from transformers import AutoTokenizer, BitsAndBytesConfig, LlavaOnevisionForConditionalGeneration

        from .llava_inputs import ImagePreprocessor, image_token_count

        cuda = torch.cuda.is_available() and self.requested_device != "cpu"
        quantize = self.settings.get("quantize", "auto")
        if quantize == "auto":
            quantize = "4bit" if cuda else "none"
        kwargs: dict = {"local_files_only": True}
        if cuda:
            kwargs.update(dtype=torch.bfloat16, device_map={"": self.requested_device or 0})
        else:
            kwargs.update(dtype=torch.bfloat16 if quantize == "4bit" else torch.float32, device_map="cpu")
            self._warn("No GPU: the LLaVA questioner runs on the CPU "
                       + ("in 4-bit (bitsandbytes' CPU kernels)" if quantize == "4bit" else "in float32, not 4-bit")
                       + "; with the 7B model expect tens of GB of memory and minutes per question.")
        if quantize == "4bit":
            q = dict(self.settings["quantization"])
            q["bnb_4bit_compute_dtype"] = getattr(torch, q.get("bnb_4bit_compute_dtype", "bfloat16"))
            kwargs["quantization_config"] = BitsAndBytesConfig(**q)
        self.quantized = quantize == "4bit"
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.base_dir), local_files_only=True)
        model = LlavaOnevisionForConditionalGeneration.from_pretrained(str(self.base_dir), **kwargs)
        image_id = self.tokenizer.convert_tokens_to_ids(self.prompt.image_placeholder)
        if image_id != model.config.image_token_index:
            raise ModelPackError(f"The questioner's tokenizer maps {self.prompt.image_placeholder} to {image_id} but "
                                 f"its model expects {model.config.image_token_index}; the pack is inconsistent.")
        self.base_model = model
        if self.adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(self.adapter_dir), is_trainable=False)
        model.eval()
        self.image_token_id = image_id
        self.tokens_per_image = image_token_count(model.config if not hasattr(model, "get_base_model")
                                                  else self.base_model.config,
                                                  int(self.settings["pool"]), bool(self.settings["image_newline"]))
        self.preprocess = ImagePreprocessor.from_model_dir(self.base_dir, self.base_model.config,
                                                           self.settings.get("pad_colour"))
        self.device = next(self.base_model.get_input_embeddings().parameters()).device
        stops = [self.tokenizer.convert_tokens_to_ids(t) for t in (self.prompt.chat.get("stop", "<|im_end|>"),
                                                                    "<|endoftext|>")]
        self.stop_ids = [i for i in stops if isinstance(i, int) and i >= 0]
        self.model = model

    def _warn(self, message: str) -> None:
        self.notes.append(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    # -- prompting -----------------------------------------------------------------------
    def prompt_text(self, initial: str, dialogue: list[Turn], n_images: int) -> str:
        """The chat text with one ``<image>`` per candidate (before expansion to visual tokens)."""
        return render_prompt(self.prompt, initial, dialogue, n_images)

    def input_ids(self, text: str, per_image=None):
        """(1, L) token ids of ``text`` with each image placeholder expanded to its visual tokens
        (``per_image``: the count of each image when they differ, as in the llava-reid layout)."""
        import torch

        from .llava_inputs import expand_image_tokens

        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return torch.tensor([expand_image_tokens(ids, self.image_token_id, per_image or self.tokens_per_image)])

    def visual_tokens(self, images: list):
        """(visual tokens (n_tokens, hidden) or (n, T, hidden), per-image counts or None) of PIL images."""
        import torch

        from .llava_inputs import encode_images, encode_images_llava_reid

        s = self.settings
        pixels = self.preprocess(images).to(self.device)
        if self.reid_layout:
            parts = encode_images_llava_reid(self.base_model, pixels, [im.size for im in images],
                                             float(s.get("pool_ratio", 2.0)), bool(s.get("unpad", True)))
            return torch.cat(parts), [int(p.shape[0]) for p in parts]
        return encode_images(self.base_model, pixels, int(s["pool"]), bool(s["image_newline"])), None

    def generate_text(self, initial: str, dialogue: list[Turn], images: list, seeds: list[int | None]) -> list[str]:
        """Raw generations for one prompt, one per entry of ``seeds`` (None = greedy)."""
        import torch

        from .llava_inputs import build_inputs_embeds

        self.load()
        s = self.settings
        outputs = []
        with torch.no_grad():
            visual, counts = self.visual_tokens(images)
            input_ids = self.input_ids(self.prompt_text(initial, dialogue, len(images)), counts)
            embeds = build_inputs_embeds(self.base_model, input_ids, visual, self.image_token_id)
            attention = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)
            common = dict(inputs_embeds=embeds, attention_mask=attention, max_new_tokens=int(s["max_new_tokens"]),
                          eos_token_id=self.stop_ids, pad_token_id=self.tokenizer.pad_token_id or self.stop_ids[0])
            for seed in seeds:
                if seed is None:
                    out = self.model.generate(**common, do_sample=False, top_p=None, top_k=None, temperature=None)
                else:
                    devices = [self.device] if self.device.type == "cuda" else []
                    with torch.random.fork_rng(devices=devices):
                        torch.manual_seed(seed)
                        # top_k 50 is transformers' default, so the authors' sampling had it too; it
                        # also spares a sort of the whole 151k-word vocabulary at every token
                        out = self.model.generate(**common, do_sample=True, top_p=float(s["top_p"]),
                                                  top_k=int(s.get("top_k") or 0),
                                                  temperature=float(s["temperature"]))
                outputs.append(self.tokenizer.decode(out[0], skip_special_tokens=False))
        return outputs

    # -- the Questioner interface --------------------------------------------------------
    def ask(self, context: QuestionContext) -> SuggestedQuestion:
        """One question from the candidates' images and the dialogue; infogain when LLaVA cannot."""
        if not self.loaded:
            why = (f"the LLaVA questioner failed to load ({self.load_error})" if self.load_error
                   else "the LLaVA questioner is still loading")
            return self._fallback_ask(context, why)
        if context.load_image is None or not context.candidates:
            return self._fallback_ask(context, "no candidate images to show the LLaVA questioner")
        images = [context.load_image(int(r)) for r in context.candidates[:4]]
        earlier = {normalise_question(t.question) for t in context.dialogue}
        s = self.settings
        tries = 1 + int(s["repeat_retries"])
        base_seed = int(s["seed"]) + 1000 * int(context.round_index)
        reasons = []
        for attempt in range(tries):
            # greedy (when configured) first; retries always sample, each with its own seed
            seed = base_seed + attempt if (s["do_sample"] or attempt > 0) else None
            raw = self.generate_text(context.initial_description, context.dialogue, images, [seed])[0]
            question = clean_question(self._cut(raw), self.prompt)
            if question is None:
                reasons.append("no question in its output")
                continue
            if normalise_question(question) in earlier:
                reasons.append(f"repeated '{question}'")
                continue
            mode = "greedy" if seed is None else f"top-p {s['top_p']}, seed {seed}"
            note = f"; after {attempt} resample(s): " + ", ".join(reasons) if reasons else ""
            return SuggestedQuestion(question, f"LLaVA questioner on {len(images)} candidates ({mode}){note}",
                                     None, question_kind(question), self.name)
        return self._fallback_ask(context, f"the LLaVA questioner gave no new question in {tries} tries ("
                                  + "; ".join(reasons) + ")")

    def _cut(self, text: str) -> str:
        for stop in (self.prompt.chat.get("stop", "<|im_end|>"), "<|endoftext|>"):
            text = text.split(stop)[0]
        return text

    def fallback(self):
        """The questioner used when LLaVA cannot answer (the lite ``infogain``)."""
        if self._fallback is None:
            from ..lite.questioners import QUESTIONERS  # noqa: PLC0415

            self._fallback = QUESTIONERS["infogain"]()
            self._fallback_is_lite = True
        return self._fallback

    def _fallback_ask(self, context: QuestionContext, why: str) -> SuggestedQuestion:
        fb = self.fallback()
        suggestion = fb.ask(lite_view(context) if self._fallback_is_lite else context)
        suggestion.rationale = f"{why}; suggested by {fb.name} instead" + (
            f". {suggestion.rationale}" if suggestion.rationale else "")
        suggestion.questioner = fb.name
        return suggestion


def _prompt_path(name: str | None):
    """A prompt file named in a pack's questioner config: a file in ``resources/prompts``."""
    if not name:
        return None
    from ..paths import resources_dir

    path = resources_dir() / "prompts" / Path(str(name)).name
    if not path.is_file():
        raise ModelPackError(f"The questioner's prompt {name} is not part of this interreid; update interreid or "
                             "rebuild the pack.")
    return path


def load_questioner(pack_dir: Path, load: bool = True, device: str | None = None) -> LlavaQuestioner:
    """The LLaVA questioner of a model pack's ``questioner`` component (``base/`` + ``adapter/``).

    ``load=False`` returns it unloaded (call ``start_loading()`` from an app). Raises
    ModelPackError when the pack has no questioner: the caller falls back to ``infogain``.
    """
    pack_dir = Path(pack_dir)
    try:
        folder = component_dir(pack_dir, "questioner")
    except MissingComponentError as exc:
        name = pack_name(pack_dir)
        raise MissingComponentError(f"The model pack {name} has no questioner component, so the 'llava' questioner is not "
                             "available; the infogain questioner is used instead.") from exc
    settings = component_config(pack_dir, "questioner")
    base = folder / settings.pop("base_dir", BASE_DIR)
    adapter = folder / settings.pop("adapter_dir", ADAPTER_DIR)
    if not (base / "config.json").exists():
        raise ModelPackError(f"The questioner in {pack_dir} has no base model (missing {base / 'config.json'}); "
                             "rebuild the pack with --questioner-base.")
    q = LlavaQuestioner(base, adapter if (adapter / "adapter_config.json").exists() else None, settings, device)
    return q.load() if load else q
