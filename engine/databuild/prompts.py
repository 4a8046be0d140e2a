"""The construction prompts (paper Tables 5-8) as data, and parsers for what a model writes back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

_NUMBERED = re.compile(r"^\s*(\d{1,3})\s*[.)]\s*(.+?)\s*$")
_OPTION = re.compile(r"^\s*\(?([A-Da-d])\)\s*(.+?)\s*$")
_LABEL = re.compile(r"^\s*(?:\*\*)?(question|answer)(?:\*\*)?\s*:\s*(?:\*\*)?\s*(.*)$", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")

FEMALE = {"she", "her", "hers", "herself", "woman", "women", "girl", "lady", "female"}
MALE = {"he", "his", "him", "himself", "man", "men", "boy", "gentleman", "male", "guy"}


@dataclass(frozen=True)
class PromptSpec:
    """``resources/prompts/databuild.yaml``, parsed and checked."""

    version: str
    coarse: tuple[str, ...]
    fine: str
    followup: str
    split: str
    qa: str
    types: dict  # name -> {"family", "share", "prompt"}
    generation: dict
    validation: dict
    path: str

    def max_tokens(self, step: str) -> int:
        table = self.generation.get("max_new_tokens") or {}
        return int(table.get(step, 200)) if isinstance(table, dict) else int(table)


def load_prompts(path: str | Path | None = None) -> PromptSpec:
    """The bundled prompts, or the YAML file ``path`` with the same keys. UserError when unusable."""
    import yaml

    from ..paths import resources_dir

    path = Path(path) if path else resources_dir() / "prompts" / "databuild.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"Prompt file {path} cannot be read ({exc.__class__.__name__}); give the bundled "
                        "databuild.yaml or a copy of it.") from None
    need = ("version", "coarse_instructions", "fine_instruction", "followup_instruction", "split_instruction",
            "qa_instruction", "question_types")
    if not isinstance(data, dict) or any(k not in data for k in need):
        missing = next((k for k in need if not isinstance(data, dict) or k not in data), "version")
        raise UserError(f"Prompt file {path} has no '{missing}'; start from the bundled databuild.yaml.")
    checks = {"fine_instruction": "<init_query>", "followup_instruction": "<description>",
              "split_instruction": "<description>", "qa_instruction": "<sub_caption>"}
    for key, slot in checks.items():
        if slot not in str(data[key]):
            raise UserError(f"Prompt file {path}: '{key}' must contain the slot {slot}.")
    types = dict(data["question_types"])
    total = sum(float(t.get("share", 0)) for t in types.values())
    if not types or abs(total - 1.0) > 1e-6:
        raise UserError(f"Prompt file {path}: the question types' shares add up to {total:g}, not 1.")
    return PromptSpec(version=str(data["version"]), coarse=tuple(data["coarse_instructions"]),
                      fine=data["fine_instruction"], followup=data["followup_instruction"],
                      split=data["split_instruction"], qa=data["qa_instruction"], types=types,
                      generation=dict(data.get("generation") or {}), validation=dict(data.get("validation") or {}),
                      path=str(path))


def subject_of(description: str) -> str:
    """"man", "woman" or "person", from the gendered words of a description (Table 8's <subject>)."""
    words = re.findall(r"[a-z]+", description.lower())
    f = sum(w in FEMALE for w in words)
    m = sum(w in MALE for w in words)
    return "woman" if f > m else "man" if m > f else "person"


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text or "") if s.strip()]


_PARA_LABEL = re.compile(r"^\s*(?:\*\*)?([A-Z][A-Za-z -]{2,40}?)(?:\*\*)?\s*:\s*(?:\*\*)?", re.MULTILINE)


def _dedupe(text: str) -> str:
    """Drop sentences, and comma-separated clauses within a sentence, that a small model repeated."""
    seen: set[str] = set()
    out = []
    for sent in sentences(text):
        clauses, kept = re.split(r"(?<=,)\s+", sent), []
        for clause in clauses:
            key = re.sub(r"[^a-z ]", "", clause.lower()).strip()
            if key and key in seen:
                continue
            seen.add(key)
            kept.append(clause)
        if kept:
            joined = " ".join(kept).rstrip(",").strip()
            out.append(joined if joined[-1] in ".!?" else joined + ".")
    return " ".join(out)


def tidy_text(text: str, label: str | None = None) -> str:
    """A model's free text as one paragraph: without its labels (``Follow-up description:``; when
    the model wrote several labelled paragraphs, only the last one's text), no surrounding quotes,
    repeated sentences and clauses dropped, whitespace collapsed, an unfinished last sentence dropped."""
    text = (text or "").replace("\r", "").strip()
    if label:
        text = re.sub(rf"^\s*{re.escape(label)}\s*:?\s*", "", text, flags=re.IGNORECASE)
    labels = list(_PARA_LABEL.finditer(text))
    if labels:
        text = text[labels[-1].end():]
    text = re.sub(r"\s+", " ", text).strip().strip('"').strip()
    parts = sentences(text)
    if len(parts) > 1 and parts[-1][-1] not in ".!?":
        parts = parts[:-1]
    return _dedupe(" ".join(parts).strip())


def parse_numbered(text: str) -> list[str]:
    """The items of a numbered list ("1. ...", "2) ..."), in order, duplicates dropped."""
    out: list[str] = []
    for line in (text or "").replace("\r", "").split("\n"):
        m = _NUMBERED.match(line)
        if m:
            item = m.group(2).strip().strip('"').strip()
            if item and item.lower() not in (o.lower() for o in out):
                out.append(item)
    return out


def parse_qa(text: str) -> tuple[str, str, list[str]]:
    """(question, answer, options) from Table 8's "Question: ... / A) ... / Answer: ..." format.
    Empty strings when a part is missing."""
    question, answer, options = "", "", []
    current = None
    for line in (text or "").replace("\r", "").split("\n"):
        m = _LABEL.match(line)
        if m:
            current = m.group(1).lower()
            value = m.group(2).strip()
            if current == "question" and not question:
                question = value
            elif current == "answer" and not answer:
                answer = value
            elif current == "answer":
                current = None  # a second answer: ignore what follows
            continue
        opt = _OPTION.match(line)
        if opt and current == "question":
            options.append(f"{opt.group(1).upper()}) {opt.group(2)}")
            continue
        if line.strip() and current == "question" and not options and question and not question.endswith("?"):
            question += " " + line.strip()
        elif line.strip() and current == "answer" and answer and not answer.endswith((".", "!", "?")):
            answer += " " + line.strip()
    if not question:  # no "Question:" label: a line that asks something ("The question is: ...?")
        for line in (text or "").split("\n"):
            if "?" in line and not _LABEL.match(line):
                question = re.sub(r"^\s*(the\s+)?question\s+is\s*:?\s*", "", line, flags=re.IGNORECASE)
                question = question[:question.rindex("?") + 1].strip().strip('"').strip()
                break
    return question.strip().strip('"'), tidy_text(answer), options
