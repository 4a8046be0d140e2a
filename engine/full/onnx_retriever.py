"""The full engine's CLIP on onnxruntime: gallery embedder (image tower) and retriever (text tower).

Neither class imports torch. Both receive their files from a verified model pack (see ``pack.py``);
``provider`` says where they run ("CUDAExecutionProvider" or "CPUExecutionProvider").
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ..embedder import EmbedderIdentity, l2_normalise
from .export import IMAGE_INPUT, TEXT_INPUT
from .preprocess import preprocess_batch
from .openvino_runtime import OpenVinoSession, use_openvino
from .ort_cache import cache_dir, intra_op_threads
from .providers import choose_providers, make_session
from .tokenizer import ClipTokenizer, trim_padding

EMBEDDER_NAME = "clip-onnx"
CLIP_TEMPERATURE = 0.02  # IRRA's logit scale 1/0.02


class OnnxClipEmbedder:
    """Images -> (N, 512) float32 L2-normalised, via the exported image tower (fp32 or int8).

    ``runtime``: ``"auto"`` runs on OpenVINO when it is installed and the session is CPU-only
    (``openvino_runtime.py``), else onnxruntime; ``"onnxruntime"`` always onnxruntime.
    """

    def __init__(self, image_onnx: str | Path, identity: EmbedderIdentity, preprocess: dict | None = None,
                 batch_size: int = 32, providers: list[str] | None = None, source_sha256: str | None = None,
                 cache: bool = True, runtime: str = "auto"):
        self.identity = identity
        self.batch_size = int(batch_size)
        self.preprocess = dict(preprocess or {})
        self.providers = providers or choose_providers()
        if runtime != "onnxruntime" and use_openvino(self.providers):
            # The optional OpenVINO runtime, when installed (openvino_runtime.py); same graph and identity.
            folder = cache_dir() if cache else None
            self.session = OpenVinoSession(image_onnx, threads=intra_op_threads(),
                                           cache_dir=folder / "openvino" if folder else None)
        else:
            # The image tower's optimised graph is saved once per workstation (see ort_cache.py).
            self.session = make_session(image_onnx, self.providers, source_sha256, cache=cache)
        self.provider = self.session.get_providers()[0]

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Preprocessed float32 (N, 3, H, W) -> (N, D) float32 L2-normalised."""
        out = [self.session.run(None, {IMAGE_INPUT: np.ascontiguousarray(pixels[i:i + self.batch_size])})[0]
               for i in range(0, len(pixels), self.batch_size)]
        if not out:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        return l2_normalise(np.concatenate(out))

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """RGB PIL images -> float32 (len(images), 512), rows L2-normalised."""
        chunks = [self.embed_pixels(preprocess_batch(images[i:i + self.batch_size], self.preprocess))
                  for i in range(0, len(images), self.batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.identity.dim), dtype=np.float32)


class OnnxClipRetriever:
    """Text -> cosine with gallery vectors, via the exported text tower (paper Eq. 1 scores)."""

    temperature: float = CLIP_TEMPERATURE

    def __init__(self, text_onnx: str | Path, identity: EmbedderIdentity, bpe_path: str | Path | None = None,
                 context_length: int = 192, providers: list[str] | None = None, cache_size: int = 64,
                 source_sha256: str | None = None, cache: bool = True):
        self.identity = identity
        self.tokenizer = ClipTokenizer(bpe_path, context_length=context_length)
        self.providers = providers or choose_providers()
        # One query at a time, between searches that need every core: operator threads that spun while
        # idle after each query took a core from the search that followed (its scan ran at half speed).
        self.session = make_session(text_onnx, self.providers, source_sha256, cache=cache, spin=False)
        self.provider = self.session.get_providers()[0]
        # Packs built before the dynamic-length export take exactly context_length tokens.
        self.dynamic_length = text_length_is_dynamic(self.session)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = int(cache_size)

    def encode_text(self, texts: str | Sequence[str]) -> np.ndarray:
        """Texts -> float32 (N, 512), rows L2-normalised (192-token rule, see tokenizer)."""
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        tokens = self.tokenizer(list(texts))
        if self.dynamic_length:
            tokens = trim_padding(tokens)
        return l2_normalise(self.session.run(None, {TEXT_INPUT: tokens})[0])

    def query_vector(self, query: str) -> np.ndarray:
        """The embedding of one query (float32 (512,), read-only), kept for the most recent queries: a
        round searches with it and explains its candidates with it, and an undo or a re-rank asks again."""
        vec = self._cache.get(query)
        if vec is None:
            vec = self.encode_text([query])[0]
            vec.flags.writeable = False
            self._cache[query] = vec
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(query)
        return vec

    def score(self, query: str, vectors: np.ndarray) -> np.ndarray:
        """Cosine of the encoded ``query`` with every row of ``vectors`` (N, 512). float32 (N,)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.identity.dim:
            raise ValueError(f"expected vectors of shape (N, {self.identity.dim}), got {vectors.shape}")
        return (vectors @ self.query_vector(query)).astype(np.float32)

    def explain(self, query: str, vector: np.ndarray) -> str:
        """E.g. "cosine 0.31 to the description"."""
        cos = float(np.asarray(vector, dtype=np.float32).reshape(-1) @ self.query_vector(query))
        return f"cosine {cos:.2f} to the description"


def text_length_is_dynamic(session) -> bool:
    """True when the text graph's token input has a symbolic (not fixed) sequence axis."""
    for inp in session.get_inputs():
        if inp.name == TEXT_INPUT:
            shape = list(inp.shape or [])
            return len(shape) == 2 and not isinstance(shape[1], int)
    return False
