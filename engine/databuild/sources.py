"""What ``data build`` starts from: a folder of images, a gallery, or an annotation file.

Every input becomes a list of :class:`Item`: one image (SHA-256 of its bytes), the person it
shows, and whatever text already exists for it. Annotation files may be

- T-ReID style (CUHK-PEDES, ICFG-PEDES: ``file_path``; RSTPReid: ``img_path``) with ``captions``
  (a list of strings) and ``id``, optionally ``split``;
- Interactive-PEDES style, with ``initial_description`` and ``fine-grained_description``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..hashing import sha256_file

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass
class Item:
    file_path: str  # relative to the image root, POSIX
    image: Path  # absolute
    sha256: str
    person: str  # identity name as in the source
    split: str | None = None
    captions: list[str] = field(default_factory=list)
    initial: str | None = None
    fine: str | None = None


@dataclass
class Source:
    kind: str  # folder | gallery | annotations
    root: Path  # image root the items' file_path are relative to
    items: list[Item]
    description: str


def _hash_all(paths: list[Path]) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(sha256_file, paths))


def from_folder(folder: Path, identity: str = "image") -> Source:
    """Every image under ``folder`` (recursively, sorted). ``identity``: ``image`` (each image is
    its own person) or ``folder`` (images in the same sub-folder show the same person)."""
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; give a folder of person images, a gallery or an annotation file.")
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not paths:
        raise UserError(f"Folder {folder} holds no images (.jpg, .png, .bmp, .webp).")
    shas = _hash_all(paths)
    items = []
    for p, sha in zip(paths, shas):
        rel = p.relative_to(folder).as_posix()
        person = (p.parent.relative_to(folder).as_posix() or ".") if identity == "folder" else rel
        items.append(Item(rel, p.absolute(), sha, person))
    return Source("folder", folder.absolute(), items, f"folder {folder}")


def from_gallery(folder: Path) -> Source:
    """Every image of a gallery (each its own person), read from its first source path."""
    from ..gallery.store import Gallery

    gallery = Gallery.open(folder)
    try:
        images = [gallery.image(row) for row in range(len(gallery))]
    finally:
        gallery.close()
    paths = [Path(img.path).absolute() for img in images]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"{len(missing)} of the gallery's {len(paths)} originals cannot be found (first: "
                        f"{missing[0]}); reconnect the drive they were imported from.")
    if not paths:
        raise UserError(f"Gallery {folder} holds no images; import some first.")
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    items = [Item(p.relative_to(root).as_posix(), p, img.sha256, img.sha256) for p, img in zip(paths, images)]
    return Source("gallery", root, items, f"gallery {folder}")


def from_annotations(path: Path, images: Path | None) -> Source:
    """Records of a T-ReID or Interactive-PEDES JSON file; ``images`` is their image root."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"Annotation file {path} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Annotation file {path} cannot be read ({exc.__class__.__name__}).") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"Annotation file {path} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    if isinstance(data, dict):  # some releases wrap the list
        data = data.get("annotations") or data.get("data") or data
    if not isinstance(data, list) or not data:
        raise UserError(f"Annotation file {path} must hold a non-empty JSON list of records.")
    if images is None:
        raise UserError("An annotation file needs its image root; give --images ROOT (the folder its "
                        "file_path / img_path are relative to).")
    root = images.absolute()
    raw = []
    for i, rec in enumerate(data):
        where = f"Annotation file {path}: record {i}"
        if not isinstance(rec, dict):
            raise UserError(f"{where} is not a JSON object.")
        rel = rec.get("file_path") or rec.get("img_path")
        if not isinstance(rel, str) or not rel:
            raise UserError(f"{where} names no image (file_path or img_path).")
        captions = rec.get("captions") or []
        if isinstance(captions, str):
            captions = [captions]
        initial, fine = rec.get("initial_description"), rec.get("fine-grained_description")
        if not all(isinstance(c, str) for c in captions) or not (captions or initial or fine):
            raise UserError(f"{where} has no text: give 'captions' (a list of strings) or "
                            "'initial_description' and 'fine-grained_description'.")
        pid = rec.get("id", rel)
        raw.append((rel, str(pid), rec.get("split"), [c.strip() for c in captions if c.strip()],
                    initial.strip() if isinstance(initial, str) and initial.strip() else None,
                    fine.strip() if isinstance(fine, str) and fine.strip() else None))
    paths = [root / r[0] for r in raw]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"{len(missing)} of the {len(paths)} images named in {path} are missing (first: "
                        f"{missing[0]}); check --images.")
    shas = _hash_all(paths)
    items = [Item(Path(rel).as_posix(), p, sha, pid, split if isinstance(split, str) and split else None,
                  caps, initial, fine) for (rel, pid, split, caps, initial, fine), p, sha in zip(raw, paths, shas)]
    return Source("annotations", root, items, f"annotation file {path}")


def open_source(src: Path, images: Path | None = None, identity: str = "image") -> Source:
    """Dispatch on what ``src`` is: a JSON file, a gallery folder (has gallery.db), or a folder."""
    if src.is_file():
        return from_annotations(src, images)
    if src.is_dir() and (src / "gallery.db").is_file():
        return from_gallery(src)
    if src.is_dir():
        return from_folder(src, identity)
    raise UserError(f"{src} does not exist; give a folder of images, a gallery folder or an annotation file.")
