"""The image tower on OpenVINO's CPU runtime, when the optional ``openvino`` package is installed.

Measured in docs/scale.md ("CPU embedding"): on a CPU with bfloat16 matrix units (Intel AMX /
AVX-512 BF16) OpenVINO runs the fp32 ViT-B/16 graph in bfloat16 by its own choice, several times
faster than onnxruntime's int8, at a cosine above 0.9999 to fp32. It is not a dependency: install
the ``openvino`` package on a workstation to use it (never ``onnxruntime-openvino``, which replaces
the onnxruntime the rest of the application uses). When it is importable, the full engine's image
embedder runs on it on CPU-only machines; ``INTERREID_CPU_RUNTIME=onnxruntime`` keeps
onnxruntime, ``INTERREID_CPU_RUNTIME=openvino`` insists (and says so when it is missing).
OpenVINO keeps its compiled model in ``<ort-cache>/openvino`` (its own ``CACHE_DIR``).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from ..errors import ModelPackError

ENV_RUNTIME = "INTERREID_CPU_RUNTIME"
PROVIDER = "OpenVINO CPU"


def openvino_available() -> bool:
    """True when the ``openvino`` package can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("openvino") is not None
    except (ImportError, ValueError):
        return False


def use_openvino(providers: list[str]) -> bool:
    """Whether the image tower should run on OpenVINO: only on CPU-only sessions, when installed,
    unless ``INTERREID_CPU_RUNTIME=onnxruntime``."""
    choice = os.environ.get(ENV_RUNTIME, "auto").strip().lower() or "auto"
    if choice not in {"auto", "openvino", "onnxruntime"}:
        raise ModelPackError(f"{ENV_RUNTIME} must be auto, openvino or onnxruntime, not '{choice}'.")
    if choice == "onnxruntime" or list(providers) != ["CPUExecutionProvider"]:
        return False
    if choice == "openvino" and not openvino_available():
        raise ModelPackError(f"{ENV_RUNTIME}=openvino, but the openvino package is not installed; install it "
                             "or unset the variable.")
    return openvino_available()


class OpenVinoSession:
    """The part of onnxruntime's InferenceSession the embedder uses (``run``, ``get_providers``),
    on OpenVINO's CPU plugin. ``precision``: ``"auto"`` (OpenVINO's default: bf16 where the CPU has
    it) or ``"f32"``."""

    def __init__(self, path: str | Path, threads: int | None = None, precision: str = "auto",
                 cache_dir: Path | None = None):
        import openvino as ov  # noqa: PLC0415

        core = ov.Core()
        config: dict[str, str] = {"PERFORMANCE_HINT": "LATENCY"}
        if precision != "auto":
            config["INFERENCE_PRECISION_HINT"] = precision
        if threads:
            config["INFERENCE_NUM_THREADS"] = str(int(threads))
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            config["CACHE_DIR"] = str(cache_dir)
        self.compiled = core.compile_model(str(path), "CPU", config)
        chosen = self.compiled.get_property("INFERENCE_PRECISION_HINT")  # an ov.Type, e.g. bf16
        self.precision = chosen.get_type_name() if hasattr(chosen, "get_type_name") else str(chosen)
        self._request = self.compiled.create_infer_request()

    def get_providers(self) -> list[str]:
        return [f"{PROVIDER} ({self.precision})"]

    def run(self, _outputs, feed: dict) -> list[np.ndarray]:
        (pixels,) = feed.values()
        return [np.array(self._request.infer({0: np.ascontiguousarray(pixels)})[0], dtype=np.float32)]
