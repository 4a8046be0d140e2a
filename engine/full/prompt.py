"""The questioner's prompt (paper Table 9) built from ``resources/prompts/questioner.yaml``,
and the cleaning of what the model generates into one question.

Layout of the user turn (docs/model-pack.md)::

    [Candidate Person] <image>
    [Similar Persons] #1: <image>
    #2: <image>
    #3: <image>
    [Conversation] Witness: {initial}
    You: {q1}
    Witness: {a1}
    ...
    {one of the three instructions}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import yaml

from ..interview.protocols import Turn
from ..paths import resources_dir


@dataclass(frozen=True)
class PromptSpec:
    """The prompt text as data (see ``resources/prompts/questioner.yaml``)."""

    chat: dict
    system: str
    image_placeholder: str
    candidates: dict
    conversation: dict
    instructions: tuple[str, ...]
    inference_instruction: int
    role_prefixes: tuple[str, ...]


@lru_cache(maxsize=4)
def load_prompt_spec(path: str | Path | None = None) -> PromptSpec:
    """Read the prompt spec (default: the bundled ``resources/prompts/questioner.yaml``)."""
    path = Path(path) if path else resources_dir() / "prompts" / "questioner.yaml"
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return PromptSpec(raw["chat"], raw["system"].strip(), raw["image_placeholder"], raw["candidates"],
                      raw["conversation"], tuple(raw["instructions"]), int(raw.get("inference_instruction", 0)),
                      tuple(raw.get("role_prefixes", ())))


def candidates_block(spec: PromptSpec, n_images: int) -> str:
    """``[Candidate Person] <image>\\n[Similar Persons] #1: <image>\\n...`` for ``n_images`` >= 1."""
    if n_images < 1:
        raise ValueError("the questioner needs at least one candidate image")
    image = spec.image_placeholder
    text = spec.candidates["first"].format(image=image)
    if n_images > 1:
        text += spec.candidates["similar_header"]
        text += "".join(spec.candidates["similar"].format(number=i, image=image) for i in range(1, n_images))
    return text


def conversation_block(spec: PromptSpec, initial: str, dialogue: Sequence[Turn]) -> str:
    """``[Conversation] Witness: {initial}\\nYou: {q1}\\nWitness: {a1}\\n...``."""
    conv = spec.conversation
    text = conv["header"] + conv["initial"].format(text=initial.strip())
    for turn in dialogue:
        text += conv["question"].format(text=turn.question.strip()) + conv["answer"].format(text=turn.answer.strip())
    return text


def user_text(spec: PromptSpec, initial: str, dialogue: Sequence[Turn], n_images: int,
              instruction: int | None = None) -> str:
    """The user turn: candidates, conversation, then instruction ``instruction`` (0-2) of Table 9."""
    index = spec.inference_instruction if instruction is None else instruction
    return candidates_block(spec, n_images) + conversation_block(spec, initial, dialogue) + spec.instructions[index]


def render_prompt(spec: PromptSpec, initial: str, dialogue: Sequence[Turn], n_images: int,
                  instruction: int | None = None) -> str:
    """The whole chat text the model reads, ending with the assistant's turn opening."""
    chat = spec.chat
    return (chat["system"].format(text=spec.system)
            + chat["user"].format(text=user_text(spec, initial, dialogue, n_images, instruction))
            + chat["assistant_prefix"])


_QUESTION = re.compile(r"[^?]*\?")


def clean_question(generated: str, spec: PromptSpec) -> str | None:
    """One question out of the model's text: cut at the stop marker, drop role prefixes such as
    "You:", keep the first question ending in '?'. None when there is no question."""
    text = generated.split(spec.chat.get("stop", "<|im_end|>"))[0]
    for line in text.splitlines():
        line = line.strip()
        changed = True
        while changed:  # "Investigator: You: ..." → "..."
            changed = False
            for prefix in spec.role_prefixes:
                if line.lower().startswith(prefix.lower()):
                    line, changed = line[len(prefix):].strip(), True
        if line.lower().startswith("witness:"):
            continue  # the model speaking for the witness is not a question
        match = _QUESTION.search(line)
        if match:
            question = _strip_lead(match.group(0))
            if len(question) > 1:
                return question[0].upper() + question[1:]
    return None


def _strip_lead(text: str) -> str:
    """Drop what precedes the question's first word in a sentence run ("Thanks. Is she ...?")."""
    text = text.strip().strip('"“”').strip()
    parts = re.split(r"(?<=[.!])\s+", text)
    return parts[-1].strip()


def normalise_question(text: str) -> str:
    """Case- and space-insensitive form used to spot an exact repeat."""
    return " ".join(text.casefold().split()).rstrip("?").strip()
