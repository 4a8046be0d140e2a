"""CLIP's byte-pair-encoding tokenizer with the 192-token rule of IRRA / LLaVA-ReID.

Tokens = start-of-text + BPE(text) + end-of-text, truncated to ``context_length`` with the last
token forced to end-of-text, zero-padded. The text tower pools at the end-of-text token (the
largest id), so the forced EOT matters.

Torch-free on purpose: the ONNX retriever must not need torch. The BPE merges file is CLIP's
``bpe_simple_vocab_16e6.txt.gz``; a model pack carries its own copy, and without one we read the
copy inside the installed open_clip package (found without importing open_clip, which imports
torch).
"""

from __future__ import annotations

import gzip
import html
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

BPE_FILENAME = "bpe_simple_vocab_16e6.txt.gz"
CONTEXT_LENGTH = 192
SOT, EOT = "<start_of_text>", "<end_of_text>"
_N_MERGES = 49152 - 256 - 2  # CLIP uses the first 48,894 merges of the file


def default_bpe_path() -> Path:
    """The BPE file shipped inside open_clip_torch (located without importing it)."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("open_clip_torch is not installed and no BPE vocabulary was given")
    return Path(list(spec.submodule_search_locations)[0]) / BPE_FILENAME


@lru_cache(maxsize=1)
def _bytes_to_unicode() -> dict[int, str]:
    # GPT-2/CLIP byte <-> printable-unicode table, so BPE never sees whitespace/control bytes.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    extra = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + extra)
            extra += 1
    return dict(zip(bs, map(chr, cs)))


def _clean(text: str) -> str:
    import ftfy  # noqa: PLC0415  (dependency of open_clip_torch)

    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).lower()


class ClipTokenizer:
    """``tokenizer(["a man in a red coat"])`` -> int64 array (N, context_length)."""

    def __init__(self, bpe_path: str | Path | None = None, context_length: int = CONTEXT_LENGTH):
        import regex  # noqa: PLC0415  (dependency of open_clip_torch; supports \p{L})

        path = Path(bpe_path) if bpe_path else default_bpe_path()
        merges = gzip.open(path).read().decode("utf-8").split("\n")[1:_N_MERGES + 1]
        merges = [tuple(m.split()) for m in merges]
        byte_chars = list(_bytes_to_unicode().values())
        vocab = byte_chars + [c + "</w>" for c in byte_chars] + ["".join(m) for m in merges] + [SOT, EOT]
        self.encoder = {tok: i for i, tok in enumerate(vocab)}
        self.decoder = {i: tok for tok, i in self.encoder.items()}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.sot_id, self.eot_id = self.encoder[SOT], self.encoder[EOT]
        self.context_length = int(context_length)
        self.vocab_size = len(self.encoder)
        self._cache: dict[str, str] = {SOT: SOT, EOT: EOT}
        self._pattern = regex.compile(
            r"<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+",
            regex.IGNORECASE,
        )

    def _bpe(self, token: str) -> str:
        if token in self._cache:
            return self._cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(a, b) for a, b in zip(word, word[1:])}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        out = " ".join(word)
        self._cache[token] = out
        return out

    def encode(self, text: str) -> list[int]:
        """BPE ids of ``text`` without start/end tokens."""
        table = _bytes_to_unicode()
        ids: list[int] = []
        for piece in self._pattern.findall(_clean(text)):
            piece = "".join(table[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(piece).split(" "))
        return ids

    def decode(self, ids) -> str:
        inverse = {v: k for k, v in _bytes_to_unicode().items()}
        text = "".join(self.decoder[int(i)] for i in ids)
        return bytearray(inverse[c] for c in text).decode("utf-8", errors="replace").replace("</w>", " ")

    def __call__(self, texts: str | list[str]) -> np.ndarray:
        """Token ids, int64 (N, context_length): SOT + BPE + EOT, truncated with EOT last, 0-padded."""
        if isinstance(texts, str):
            texts = [texts]
        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot_id] + self.encode(text) + [self.eot_id]
            if len(ids) > self.context_length:
                ids = ids[:self.context_length]
                ids[-1] = self.eot_id
            out[row, :len(ids)] = ids
        return out


def trim_padding(tokens: np.ndarray) -> np.ndarray:
    """Cut the zero columns after the last end-of-text token of any row (at least one column kept).

    The text tower pools at the end-of-text token under a causal mask, so these columns never
    change a feature; a dynamic-length text graph then runs on 10-20 tokens instead of 192.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[1] == 0:
        return tokens
    used = np.flatnonzero(tokens.any(axis=0))
    width = int(used[-1]) + 1 if used.size else 1
    return np.ascontiguousarray(tokens[:, :width])
