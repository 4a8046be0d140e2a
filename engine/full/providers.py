"""Which onnxruntime execution provider to use: CUDA when it really works here, else the CPU.

onnxruntime-gpu lists CUDA as "available" even on machines with no GPU, and asking for it there
logs a failed library load. So we check for the NVIDIA driver first, then create a throw-away
session on a one-node graph with the CUDA provider (ORT's logger silenced) and look at the
providers the session actually got. The answer is cached for the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
from functools import lru_cache

CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
_QUIET = 4  # onnxruntime severity FATAL: hide the error a failed CUDA library load logs
_DEFAULT_SEVERITY = 2  # onnxruntime's own default (WARNING)


def _driver_present() -> bool:
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def _probe_model() -> bytes:
    from onnx import TensorProto, helper  # noqa: PLC0415

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


@lru_cache(maxsize=1)
def cuda_usable() -> bool:
    """True when an onnxruntime session can really run on CUDA on this machine."""
    import onnxruntime as ort  # noqa: PLC0415

    if CUDA not in ort.get_available_providers() or not _driver_present():
        return False
    ort.set_default_logger_severity(_QUIET)
    try:
        if hasattr(ort, "preload_dlls"):  # CUDA/cuDNN from the nvidia-* wheels torch also uses
            with contextlib.redirect_stdout(io.StringIO()):
                ort.preload_dlls(cuda=True, cudnn=True, msvc=False)
        options = ort.SessionOptions()
        options.log_severity_level = _QUIET
        session = ort.InferenceSession(_probe_model(), sess_options=options, providers=[CUDA])
        return CUDA in session.get_providers()
    except Exception:  # noqa: BLE001  (any failure to start CUDA means: use the CPU)
        return False
    finally:
        ort.set_default_logger_severity(_DEFAULT_SEVERITY)


def choose_providers(preference: str | None = None) -> list[str]:
    """Providers for an InferenceSession, chosen explicitly.

    ``preference``: ``"auto"`` (default; also from ``INTERREID_ORT_PROVIDER``), ``"cpu"`` or
    ``"cuda"`` (falls back to the CPU when CUDA does not work here).
    """
    pref = (preference or os.environ.get("INTERREID_ORT_PROVIDER") or "auto").lower()
    if pref != "cpu" and cuda_usable():
        return [CUDA, CPU]
    return [CPU]


def make_session(path, providers: list[str], source_sha256: str | None = None, cache: bool = False,
                 spin: bool = True):
    """An InferenceSession on ``path`` with exactly ``providers``; warnings not shown; full graph
    optimisation; ``INTERREID_ORT_THREADS`` operator threads when set; ``spin`` False: idle operator
    threads sleep at once instead of spinning (onnxruntime's ``session.intra_op.allow_spinning``).

    ``cache``: on the CPU provider, keep the optimised graph on disk and load it next time instead
    of optimising again (``ort_cache.py``; ``source_sha256`` is the file's hash from the pack's
    manifest, which decides when the saved graph is stale).
    """
    from .ort_cache import intra_op_threads, optimised_session  # noqa: PLC0415

    if cache:
        return optimised_session(path, providers, source_sha256, spin=spin)[0]
    import onnxruntime as ort  # noqa: PLC0415

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    threads = intra_op_threads()
    if threads:
        options.intra_op_num_threads = threads
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)
