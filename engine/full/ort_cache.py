"""onnxruntime sessions whose graph optimisation is done once and saved, not redone at every start.

onnxruntime optimises a graph every time it opens one (constant folding, fusing attention, layer
norm and GELU, turning QDQ pairs into integer kernels, the CPU's blocked layouts). For the ViT-B/16
image tower that is a noticeable part of opening a pack. ``SessionOptions.optimized_model_filepath``
writes the optimised graph out; the next start loads that file with optimisation switched off.

The saved graph is specific to what produced it: at the full level it holds kernels chosen for this
CPU's instruction set, and it belongs to one onnxruntime version. So each cached file has a
sidecar (``<name>.json``) recording what it was made from (the source file's SHA-256 when the pack
gives it, otherwise its path, size and modification time), the onnxruntime version, the
optimisation level, the CPU's instruction-set flags, and the SHA-256 of the saved file itself. A
file is used only when every one of these still matches and its hash checks; otherwise it is
rebuilt (stale) and the session is made from the source file as before. The cache is a derived
copy kept per workstation, never part of a pack, and only for sessions on the CPU provider alone.

Where: ``<data folder>/ort-cache``; ``INTERREID_ORT_CACHE`` moves it, ``INTERREID_ORT_CACHE=off``
switches it off. Threads: ``INTERREID_ORT_THREADS`` (onnxruntime's default, one per physical core,
when unset).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from ..hashing import sha256_file

ENV_CACHE = "INTERREID_ORT_CACHE"
ENV_THREADS = "INTERREID_ORT_THREADS"
CACHE_FORMAT = 1
LEVELS = ("disabled", "basic", "extended", "all")


def cache_dir() -> Path | None:
    """The folder for optimised graphs, or None when switched off (``INTERREID_ORT_CACHE=off``)."""
    value = os.environ.get(ENV_CACHE, "").strip()
    if value.lower() in {"off", "0", "no", "none"}:
        return None
    if value:
        return Path(value)
    from ..paths import data_dir  # noqa: PLC0415

    return data_dir() / "ort-cache"


def intra_op_threads() -> int | None:
    """Threads for one session's operators from ``INTERREID_ORT_THREADS`` (None: onnxruntime's default)."""
    value = os.environ.get(ENV_THREADS, "").strip()
    if not value:
        return None
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n > 0 else None


@lru_cache(maxsize=1)
def cpu_signature() -> str:
    """A short hash of this CPU's model name and instruction-set flags (what the full level's kernels depend on)."""
    text = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("model name", "flags", "Features", "CPU implementer", "CPU part")):
                text += line + "\n"
                if line.startswith(("flags", "Features")):
                    break
    if not text:
        import platform  # noqa: PLC0415

        text = f"{platform.machine()} {platform.processor()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _level(ort, name: str):
    return {"disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[name]


def _options(ort, level: str, threads: int | None, spin: bool = True):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if not spin:  # idle operator threads sleep instead of spinning (see OnnxClipRetriever)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = _level(ort, level)
    if threads:
        options.intra_op_num_threads = int(threads)
    return options


def source_key(path: Path, source_sha256: str | None, level: str) -> dict:
    """What a cached graph must have been made from to stand in for ``path``."""
    import onnxruntime as ort  # noqa: PLC0415

    st = path.stat()
    source = {"sha256": source_sha256} if source_sha256 else {
        "path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    return {"format": CACHE_FORMAT, "source": source, "onnxruntime": ort.__version__, "level": level,
            "cpu": cpu_signature()}


def cached_path(path: Path, source_sha256: str | None, folder: Path) -> Path:
    """The cache file for ``path``: one per source file (a rebuilt pack file replaces it)."""
    name = source_sha256 or str(Path(path).resolve())
    return folder / f"{Path(path).stem}-{hashlib.sha256(name.encode()).hexdigest()[:20]}.onnx"


def cache_state(path: str | Path, source_sha256: str | None = None, level: str = "all",
                folder: Path | None = None) -> str:
    """``"fresh"`` (the cached graph will be used), ``"stale"`` (it exists but no longer matches),
    ``"missing"`` or ``"off"``."""
    folder = folder if folder is not None else cache_dir()
    if folder is None:
        return "off"
    target = cached_path(Path(path), source_sha256, folder)
    return _check(target, source_key(Path(path), source_sha256, level))


def _check(target: Path, key: dict) -> str:
    sidecar = target.with_suffix(".json")
    if not target.is_file() or not sidecar.is_file():
        return "missing"
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "stale"
    if meta.get("key") != key or meta.get("size") != target.stat().st_size:
        return "stale"
    return "fresh" if sha256_file(target) == meta.get("sha256") else "stale"


def optimised_session(path: str | Path, providers: list[str], source_sha256: str | None = None,
                      level: str = "all", threads: int | None = None, folder: Path | None = None,
                      spin: bool = True):
    """An InferenceSession on ``path``, from the saved optimised graph when it is fresh (``spin``:
    False makes idle operator threads sleep at once instead of spinning).

    Returns (session, how) with ``how`` one of ``"cached"`` (loaded the saved graph, no
    optimisation), ``"built"`` (optimised ``path`` and saved the result), ``"rebuilt"`` (the saved
    one was stale and was replaced) or ``"direct"`` (no cache: switched off, not CPU-only, or the
    folder cannot be written; optimised in memory as before).
    """
    import onnxruntime as ort  # noqa: PLC0415

    path = Path(path)
    threads = threads if threads is not None else intra_op_threads()
    folder = folder if folder is not None else cache_dir()
    if folder is None or list(providers) != ["CPUExecutionProvider"] or level == "disabled":
        return ort.InferenceSession(str(path), sess_options=_options(ort, level, threads, spin), providers=providers), "direct"
    key = source_key(path, source_sha256, level)
    target = cached_path(path, source_sha256, folder)
    state = _check(target, key)
    if state == "fresh":
        try:
            session = ort.InferenceSession(str(target), sess_options=_options(ort, "disabled", threads, spin),
                                           providers=providers)
            return session, "cached"
        except Exception:  # noqa: BLE001  (an unreadable cached graph is rebuilt from the source)
            state = "stale"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".onnx", dir=folder)
        os.close(fd)
    except OSError:
        return ort.InferenceSession(str(path), sess_options=_options(ort, level, threads, spin), providers=providers), "direct"
    tmp = Path(tmp_name)
    try:
        options = _options(ort, level, threads, spin)
        options.optimized_model_filepath = str(tmp)
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        meta = {"key": key, "size": tmp.stat().st_size, "sha256": sha256_file(tmp), "source_file": path.name}
        os.replace(tmp, target)
        side_tmp = target.with_suffix(".json.tmp")
        side_tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(side_tmp, target.with_suffix(".json"))
    except OSError:
        tmp.unlink(missing_ok=True)
        return ort.InferenceSession(str(path), sess_options=_options(ort, level, threads, spin), providers=providers), "direct"
    return session, ("rebuilt" if state == "stale" else "built")
