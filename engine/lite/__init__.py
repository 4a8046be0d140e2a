"""The lite engine: colour-name features of body regions, a description parser, a log-likelihood
retriever and information-gain questioners. No weights; numpy only; runs anywhere."""

from ..embedder import register_embedder
from .embedder import LiteEmbedder

register_embedder("lite", lambda **kw: LiteEmbedder())

__all__ = ["LiteEmbedder"]
