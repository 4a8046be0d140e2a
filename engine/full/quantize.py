"""Int8 image towers: static quantisation calibrated on real person crops (QDQ), and the dynamic one.

Static int8 (onnxruntime's ``quantize_static``, QDQ format): weights int8 per output channel,
activations uint8 with one scale per tensor fixed in advance from a calibration pass over real
crops, so at run time no scale is computed and the matrix products stay in integers from one
layer norm to the next. Dynamic int8 (``export.quantize_image_tower``) computes every activation's
range on the fly and quantises weights per tensor; it is kept for packs that ask for it.

Calibration crops: a folder of person crops (any image files), by default the bundled demo
gallery's crops cut from the demo video. Only MatMul, Gemm and the patch-embedding Conv are
quantised; layer norm, softmax and GELU stay in float32.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import UserError
from ..hashing import sha256_json

METHODS = ("static", "dynamic")
DEFAULT_METHOD = "static"
CALIBRATION_IMAGES = 64
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def default_calibration_dir() -> Path:
    """The bundled demo crops (cut from the demo video)."""
    from ..paths import resources_dir  # noqa: PLC0415

    return resources_dir() / "demo" / "crops"


def calibration_files(folder: str | Path | None = None, limit: int = CALIBRATION_IMAGES) -> list[Path]:
    """Up to ``limit`` image files under ``folder`` (default the demo crops), spread evenly over the
    sorted list so every camera and time of the folder is represented. UserError when none."""
    folder = Path(folder) if folder else default_calibration_dir()
    if not folder.is_dir():
        raise UserError(f"The calibration folder {folder} does not exist; give a folder of person crops.")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES)
    if not files:
        raise UserError(f"The calibration folder {folder} holds no images (.jpg, .png); give a folder of person crops.")
    if len(files) > limit:
        picks = np.linspace(0, len(files) - 1, limit).round().astype(int)
        files = [files[i] for i in sorted(set(picks.tolist()))]
    return files


def calibration_pixels(files: Sequence[Path], preprocess: dict) -> np.ndarray:
    """Preprocessed float32 (N, 3, H, W) of the calibration crops (unreadable files are refused)."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    from .preprocess import preprocess_batch  # noqa: PLC0415

    images = []
    for path in files:
        try:
            with Image.open(path) as im:
                images.append(im.convert("RGB"))
        except (OSError, UnidentifiedImageError):
            raise UserError(f"The calibration image {path} cannot be read; remove it or give another folder.") from None
    return preprocess_batch(images, preprocess)


def calibration_record(files: Sequence[Path], folder: str | Path | None) -> dict:
    """What the manifest records about the calibration set (count, and a hash of the file names and bytes)."""
    from ..hashing import sha256_file  # noqa: PLC0415

    listing = [[p.name, sha256_file(p)] for p in files]
    return {"images": len(files), "source": "demo crops" if folder is None else Path(folder).name,
            "sha256": sha256_json(listing)}


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over preprocessed pixels, a few images a batch."""

    def __init__(self, pixels: np.ndarray, input_name: str, batch: int = 8):
        self._batches = iter([{input_name: pixels[i:i + batch]} for i in range(0, len(pixels), batch)])

    def get_next(self):
        return next(self._batches, None)

    def rewind(self):  # pragma: no cover  (only used by calibration methods that run twice)
        raise NotImplementedError


def quantize_image_tower_static(fp32_path: str | Path, out_path: str | Path, pixels: np.ndarray) -> Path:
    """Static QDQ int8 of an exported image tower, calibrated (min/max) on ``pixels`` (N, 3, H, W)."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,  # noqa: PLC0415
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process  # noqa: PLC0415

    from .export import IMAGE_INPUT  # noqa: PLC0415

    class Reader(_Reader, CalibrationDataReader):
        pass

    fp32_path, out_path = Path(fp32_path), Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent) as tmp:
        prepped = Path(tmp) / "prepped.onnx"
        quant_pre_process(str(fp32_path), str(prepped), skip_symbolic_shape=True)
        quantize_static(str(prepped), str(out_path), Reader(np.asarray(pixels, dtype=np.float32), IMAGE_INPUT),
                        quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        op_types_to_quantize=["MatMul", "Gemm", "Conv"])
    return out_path


def quantize_tower(method: str, fp32_path: Path, out_path: Path, preprocess: dict,
                   calibration: str | Path | None = None) -> tuple[Path, dict]:
    """Write the int8 image tower by ``method`` (static | dynamic); returns (path, what the manifest records)."""
    if method not in METHODS:
        raise UserError(f"Unknown int8 method '{method}'; choose one of {', '.join(METHODS)}.")
    if method == "dynamic":
        from .export import quantize_image_tower  # noqa: PLC0415

        return quantize_image_tower(fp32_path, out_path), {"method": "dynamic"}
    files = calibration_files(calibration)
    path = quantize_image_tower_static(fp32_path, out_path, calibration_pixels(files, preprocess))
    return path, {"method": "static-qdq", "weights": "int8 per channel", "activations": "uint8 per tensor",
                  "calibration": calibration_record(files, calibration)}
