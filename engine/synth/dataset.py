"""A deterministic synthetic dataset in the Interactive-PEDES format, with ground-truth attributes.

Layout of ``out_dir``::

    images/<id>/<n>.jpg     drawn pedestrians (<id> zero-padded to 4+ digits, <n> from 0)
    annotations.json        Interactive-PEDES records, one per image (file_path relative to out_dir)
    attributes.json         {file_path: {"head", "upper", "lower", "lower_length", "lower_type",
                             "sleeves", "feet", "bag", "hat", "gender"}}
    info.json               the parameters the dataset was generated with

Everything derives from ``seed``: an identity's look from ``(seed, id)``, each image from
``(seed, id, n)``, so the same arguments give byte-identical files on any machine with the same
Pillow/libjpeg, and a dataset's first N identities do not depend on how many follow.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UserError
from ..evaluation.annotations import Record, write_annotations
from .people import render, sample_appearance, sample_shot
from .text import dialogue, fine_grained_sentences, initial_description

GENERATOR_VERSION = 1
_OUTPUTS = ("images", "annotations.json", "attributes.json", "info.json")


@dataclass
class SynthReport:
    """What ``generate`` wrote."""

    out_dir: str
    identities: int
    images: int
    train_ids: int
    test_ids: int
    elapsed_s: float

    def as_dict(self) -> dict:
        return {"out_dir": self.out_dir, "identities": self.identities, "images": self.images,
                "train_ids": self.train_ids, "test_ids": self.test_ids, "elapsed_s": round(self.elapsed_s, 3),
                "images_per_s": round(self.images / self.elapsed_s, 1) if self.elapsed_s > 0 else None}


def _check_args(ids: int, images_per_id: int, test_fraction: float, size: tuple[int, int]) -> None:
    if not isinstance(ids, int) or ids < 1:
        raise UserError(f"The number of identities must be a whole number of at least 1 (got {ids!r}).")
    if not isinstance(images_per_id, int) or images_per_id < 1:
        raise UserError(f"Images per identity must be a whole number of at least 1 (got {images_per_id!r}).")
    if not 0.0 <= test_fraction <= 1.0:
        raise UserError(f"The test fraction must lie between 0 and 1 (got {test_fraction!r}).")
    if len(size) != 2 or size[0] < 64 or size[1] < 32 or size[0] > 2048 or size[1] > 2048:
        raise UserError(f"The image size (height, width) must be at least 64x32 and at most 2048 a side "
                        f"(got {size!r}).")


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file, not a folder; choose a folder for the dataset.")
    if out.exists() and any(out.iterdir()):
        ours = all(p.name in _OUTPUTS for p in out.iterdir())
        if not overwrite:
            raise UserError(f"Folder {out} is not empty; choose a new folder"
                            + (" or pass --overwrite to replace the dataset in it." if ours else "."))
        if not ours:
            raise UserError(f"Folder {out} holds files that are not a synthetic dataset; choose a new folder.")
        shutil.rmtree(out / "images", ignore_errors=True)
        for name in _OUTPUTS[1:]:
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def id_folder(pid: int, ids: int) -> str:
    """The folder name of person ``pid`` in a dataset of ``ids`` identities."""
    return f"{pid:0{max(4, len(str(ids)))}d}"


def generate(out_dir: str | Path, ids: int, images_per_id: int, seed: int, size: tuple[int, int] = (128, 64),
             test_fraction: float = 0.5, overwrite: bool = False, quality: int = 90,
             progress: Callable[[int, int], None] | None = None) -> SynthReport:
    """Write a synthetic Interactive-PEDES dataset of ``ids`` people x ``images_per_id`` images.

    Person ids run 1..ids; the last ``round(ids * test_fraction)`` of them are the test split.
    ``size`` is (height, width) in px. ``progress(done, total)`` is called after each image.
    Raises UserError on bad arguments or when ``out_dir`` is not empty (unless ``overwrite`` and it
    holds only a previous synthetic dataset).
    """
    _check_args(ids, images_per_id, test_fraction, tuple(size))
    start = time.perf_counter()
    out = Path(out_dir)
    _prepare(out, overwrite)
    n_test = int(round(ids * test_fraction))
    first_test = ids - n_test + 1
    total = ids * images_per_id
    records: list[Record] = []
    attributes: dict[str, dict] = {}
    done = 0
    for pid in range(1, ids + 1):
        look = sample_appearance(np.random.default_rng([seed, pid, 0]))
        attrs = look.attributes()
        folder = out / "images" / id_folder(pid, ids)
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(images_per_id):
            image_rng = np.random.default_rng([seed, pid, 1, n])
            image = render(look, sample_shot(image_rng), image_rng, size=tuple(size))
            rel = f"images/{id_folder(pid, ids)}/{n}.jpg"
            image.save(out / rel, "JPEG", quality=quality)
            text_rng = np.random.default_rng([seed, pid, 2, n])
            sentences = fine_grained_sentences(attrs)
            qas = dialogue(attrs, text_rng)
            records.append(Record(
                split="test" if pid >= first_test else "train", id=pid, file_path=rel,
                initial_description=initial_description(attrs, text_rng),
                fine_grained_description=" ".join(sentences),
                questions=[q.question for q in qas], answers=[q.answer for q in qas], captions=sentences))
            attributes[rel] = dict(attrs)
            done += 1
            if progress is not None:
                progress(done, total)
    write_annotations(out / "annotations.json", records)
    (out / "attributes.json").write_text(json.dumps(attributes, indent=1) + "\n", encoding="utf-8")
    info = {"generator": "interreid synthetic pedestrians", "version": GENERATOR_VERSION, "seed": seed,
            "ids": ids, "images_per_id": images_per_id, "size_hw": list(size), "test_fraction": test_fraction,
            "test_ids": n_test}
    (out / "info.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return SynthReport(out_dir=str(out), identities=ids, images=total, train_ids=ids - n_test, test_ids=n_test,
                       elapsed_s=time.perf_counter() - start)


def load_attributes(path: str | Path) -> dict[str, dict]:
    """Read ``attributes.json`` ({file_path: attributes}); UserError if missing or malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"Attribute file {path} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"Attribute file {path} is not a readable JSON file ({exc.__class__.__name__}).") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise UserError(f"Attribute file {path} must hold an object mapping each file_path to its attributes.")
    return data
