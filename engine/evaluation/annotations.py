"""Interactive-PEDES annotations: read, validate and write the JSON list of records.

A file is a JSON list; each record is an object with ``split``, ``id`` (person id), ``file_path``
(relative to an image root), ``initial_description``, ``fine-grained_description``, ``questions``
and ``answers`` (parallel lists of strings) and ``captions`` (list of strings). Fields a record
carries beyond these are kept in ``Record.extra`` and written back unchanged.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import UserError

REQUIRED_FIELDS = ("split", "id", "file_path", "initial_description", "fine-grained_description",
                   "questions", "answers", "captions")


@dataclass
class Record:
    """One annotated image. ``fine_grained_description`` is the JSON field ``fine-grained_description``."""

    split: str
    id: int
    file_path: str
    initial_description: str
    fine_grained_description: str
    questions: list[str]
    answers: list[str]
    captions: list[str]
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The record as the JSON object of the Interactive-PEDES file (field order as documented)."""
        out = {"split": self.split, "id": self.id, "file_path": self.file_path,
               "initial_description": self.initial_description,
               "fine-grained_description": self.fine_grained_description,
               "questions": list(self.questions), "answers": list(self.answers), "captions": list(self.captions)}
        out.update(self.extra)
        return out


def _check(path: Path, index: int, item: object) -> Record:
    where = f"Annotation file {path}: record {index}"
    if not isinstance(item, dict):
        raise UserError(f"{where} is a {type(item).__name__}, not an object; each record must be a JSON object.")
    missing = [f for f in REQUIRED_FIELDS if f not in item]
    if missing:
        raise UserError(f"{where} lacks the field '{missing[0]}'; every record needs "
                        f"{', '.join(REQUIRED_FIELDS)}.")
    pid = item["id"]
    if isinstance(pid, bool) or not isinstance(pid, int):
        if isinstance(pid, str) and pid.strip().lstrip("-").isdigit():
            pid = int(pid)
        else:
            raise UserError(f"{where} has field 'id' = {pid!r}; it must be an integer person id.")
    for name in ("split", "file_path", "initial_description", "fine-grained_description"):
        if not isinstance(item[name], str):
            raise UserError(f"{where} has a non-text field '{name}'; it must be a string.")
    if not item["split"] or not item["file_path"]:
        empty = "split" if not item["split"] else "file_path"
        raise UserError(f"{where} has an empty field '{empty}'; it must name the split or the image.")
    for name in ("questions", "answers", "captions"):
        value = item[name]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserError(f"{where} has field '{name}' that is not a list of strings.")
    if len(item["questions"]) != len(item["answers"]):
        raise UserError(f"{where} has {len(item['questions'])} 'questions' but {len(item['answers'])} "
                        "'answers'; the two lists must be parallel.")
    extra = {k: v for k, v in item.items() if k not in REQUIRED_FIELDS}
    return Record(split=item["split"], id=pid, file_path=item["file_path"],
                  initial_description=item["initial_description"],
                  fine_grained_description=item["fine-grained_description"],
                  questions=list(item["questions"]), answers=list(item["answers"]),
                  captions=list(item["captions"]), extra=extra)


def load_annotations(path: str | Path) -> list[Record]:
    """Read and validate an Interactive-PEDES annotation file.

    Raises UserError (one sentence naming the file and the problem) when the file is missing or
    unreadable, is not valid JSON, is not a list, or a record lacks a field or has a wrong type.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"Annotation file {path} does not exist; check the path.") from None
    except IsADirectoryError:
        raise UserError(f"Annotation file {path} is a folder; pass the JSON file inside it.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Annotation file {path} cannot be read ({exc.__class__.__name__}); "
                        "check it is a UTF-8 JSON file you may read.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"Annotation file {path} is not valid JSON ({exc.msg} at line {exc.lineno}, "
                        f"column {exc.colno}).") from None
    if not isinstance(data, list):
        raise UserError(f"Annotation file {path} holds a JSON {type(data).__name__}, not a list of records.")
    return [_check(path, i, item) for i, item in enumerate(data)]


def write_annotations(path: str | Path, records: Iterable[Record]) -> None:
    """Write records as an Interactive-PEDES JSON list (UTF-8, one field per line, atomic replace)."""
    path = Path(path)
    text = json.dumps([r.to_json() for r in records], ensure_ascii=False, indent=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # same folder: os.replace is atomic
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
