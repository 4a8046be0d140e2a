"""The LLaVA-OneVision questioner on a tiny random-weight model: prompt layout (paper Table 9),
visual tokens per candidate after 2×2 pooling, LoRA, 4-bit on CPU, cleaning, repeat refusal,
the infogain fallback, background loading."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch

from interreid.engine.errors import UserError
from interreid.engine.full.llava_inputs import image_token_count
from interreid.engine.full.prompt import clean_question, load_prompt_spec, render_prompt
from interreid.engine.full.questioner import LlavaQuestioner, load_questioner, question_kind
from interreid.engine.interview.protocols import QuestionContext, SuggestedQuestion, Turn
from fixtures_llava import (COLOURS, TRAINED_QUESTION, person_image, random_adapter, tiny_llava_base,  # noqa: F401
                            trained_adapter)

EXPECTED_PROMPT = (
    "<|im_start|>system\nYou are assisting an investigator who interviews a witness to identify one person among "
    "the candidates. Ask the witness one short question at a time.<|im_end|>\n"
    "<|im_start|>user\n"
    "[Candidate Person] <image>\n"
    "[Similar Persons] #1: <image>\n#2: <image>\n#3: <image>\n"
    "[Conversation] Witness: A woman with a black bag.\n"
    "You: What colour is her coat?\nWitness: Red.\n"
    "You: Is she wearing a hat?\nWitness: I don't know.\n"
    "Based on this information:\n"
    "[Candidate Person] The closest match to the provided description and answers.\n"
    "[Similar Persons] Individuals who also match but are less similar.\n"
    "[Conversation] The initial description from the witness and the ongoing dialogue.\n"
    "Generate a question that could help differentiate the candidate from similar individuals. Avoid repeating "
    "questions that have already been answered with “I don’t know.”.<|im_end|>\n"
    "<|im_start|>assistant\n")
DIALOGUE = [Turn("What colour is her coat?", "Red."), Turn("Is she wearing a hat?", "I don't know.")]


class StubFallback:
    name = "infogain"

    def __init__(self):
        self.calls = 0

    def ask(self, context):
        self.calls += 1
        return SuggestedQuestion("What colour are the trousers?", "splits the candidates best", "lower",
                                 "descriptive")


def context(dialogue=(), round_index=1, n=4) -> QuestionContext:
    images = {i: person_image(COLOURS[i]) for i in range(6)}
    return QuestionContext("a man in a red jacket", list(dialogue), round_index, np.arange(6),
                           np.full(6, 1 / 6), list(range(n)), np.zeros((6, 4), np.float32), images.__getitem__)


def loaded(base, adapter=None, **settings) -> LlavaQuestioner:
    q = LlavaQuestioner(base, adapter, settings={"quantize": "none", **settings}, device="cpu",
                        fallback=StubFallback())
    with pytest.warns(RuntimeWarning, match="CPU"):
        q.load()
    return q


def test_prompt_layout_matches_table_9():
    spec = load_prompt_spec()
    assert render_prompt(spec, "A woman with a black bag.", DIALOGUE, 4) == EXPECTED_PROMPT
    assert len(spec.instructions) == 3
    other = render_prompt(spec, "x", [], 4, instruction=2)
    assert "The following context applies:" in other and other.count("<image>") == 4
    assert render_prompt(spec, "x", [], 2).count("<image>") == 2


def test_clean_question():
    spec = load_prompt_spec()
    assert clean_question("You: Is he wearing glasses? And shoes?", spec) == "Is he wearing glasses?"
    assert clean_question("Investigator: You: what colour is the bag?<|im_end|>junk", spec) == "What colour is the bag?"
    assert clean_question("Thanks. Does she carry a backpack?\nWitness: yes", spec) == "Does she carry a backpack?"
    assert clean_question("Witness: is it red?\nYou: Is the hair long?", spec) == "Is the hair long?"
    assert clean_question("no question here.", spec) is None
    assert question_kind("Is it red or blue?") == "choice"
    assert question_kind("Does he wear a hat?") == "yesno"
    assert question_kind("What colour is it?") == "descriptive"


@pytest.fixture(scope="module")
def base_q(tiny_llava_base):
    """The tiny base without an adapter, loaded once."""
    return loaded(tiny_llava_base)


def test_image_tokens_per_candidate_after_pooling(base_q):
    q = base_q
    config = q.base_model.config
    assert config.vision_config.image_size // config.vision_config.patch_size == 7
    assert q.tokens_per_image == image_token_count(config) == 4 * 4 + 1  # 7×7 pooled to 4×4, + newline
    real = types.SimpleNamespace(vision_config=types.SimpleNamespace(image_size=384, patch_size=14))
    assert image_token_count(real) == 14 * 14 + 1  # SigLIP-so400m: 27×27 → 14×14
    ids = q.input_ids(q.prompt_text("a man", [], 4))
    assert int((ids == q.image_token_id).sum()) == 4 * 17
    from interreid.engine.full.llava_inputs import encode_images

    visual = encode_images(q.base_model, q.preprocess([person_image(c) for c in COLOURS[:4]]))
    assert visual.shape == (4, 17, config.text_config.hidden_size)
    # each candidate's tokens are a contiguous run in place of its placeholder
    runs = np.flatnonzero(np.diff(np.r_[0, (ids[0] == q.image_token_id).numpy().astype(int), 0]))
    assert list(np.diff(runs)[::2]) == [17, 17, 17, 17]


def test_lora_adapter_changes_outputs(base_q, tiny_llava_base, random_adapter):
    from interreid.engine.full.llava_inputs import build_inputs_embeds, encode_images

    def logits(q):
        images = [person_image(c) for c in COLOURS[:4]]
        ids = q.input_ids(q.prompt_text("a man", [], 4))
        with torch.no_grad():
            emb = build_inputs_embeds(q.base_model, ids, encode_images(q.base_model, q.preprocess(images)),
                                      q.image_token_id)
            return q.model(inputs_embeds=emb).logits[0, -1]

    base, tuned = base_q, loaded(tiny_llava_base, random_adapter)
    assert type(tuned.model).__name__.startswith("Peft")
    assert not torch.allclose(logits(base), logits(tuned), atol=1e-4)
    assert torch.allclose(logits(tuned), logits(loaded(tiny_llava_base, random_adapter)))


def test_4bit_nf4_on_cpu(tiny_llava_base, random_adapter):
    try:
        import bitsandbytes as bnb
    except ImportError:
        pytest.skip("bitsandbytes is not installed")
    q = LlavaQuestioner(tiny_llava_base, random_adapter, settings={"quantize": "4bit", "max_new_tokens": 8},
                        device="cpu", fallback=StubFallback())
    with pytest.warns(RuntimeWarning, match="4-bit"):
        q.load()
    layers = [m for m in q.base_model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers and all(m.weight.quant_type == "nf4" for m in layers)
    assert not any(isinstance(m, bnb.nn.Linear4bit) for m in q.base_model.model.vision_tower.modules())
    out = q.generate_text("a man", [], [person_image(c) for c in COLOURS[:4]], [None])
    assert isinstance(out[0], str) and out[0]


def test_trained_adapter_asks_its_question_then_refuses_the_repeat(tiny_llava_base, trained_adapter):
    q = loaded(tiny_llava_base, trained_adapter, max_new_tokens=24)
    s = q.ask(context())
    assert s.text == TRAINED_QUESTION and s.questioner == "llava" and s.kind == "descriptive"
    assert "top-p 0.5" in s.rationale
    greedy = loaded(tiny_llava_base, trained_adapter, max_new_tokens=24, do_sample=False)
    assert greedy.ask(context()).text == TRAINED_QUESTION
    # trained on round 1 only: in round 2 it repeats itself or says nothing usable → infogain
    again = q.ask(context([Turn(TRAINED_QUESTION.lower(), "Black.")], round_index=2))
    assert again.questioner == "infogain" and again.text == "What colour are the trousers?"
    assert "no new question in 3 tries" in again.rationale and "suggested by infogain instead" in again.rationale


def test_exact_repeat_is_refused_then_infogain(base_q, monkeypatch):
    seeds = []

    def fake(initial, dialogue, images, s):
        seeds.extend(s)
        return ["You: is she wearing a HAT ?"]

    monkeypatch.setattr(base_q, "generate_text", fake)
    s = base_q.ask(context(DIALOGUE, round_index=3))
    assert s.questioner == "infogain" and s.text == "What colour are the trousers?"
    assert s.rationale.count("repeated") == 3 and "suggested by infogain instead" in s.rationale
    assert len(seeds) == 3 and len(set(seeds)) == 3


def test_resample_after_a_repeat(base_q, monkeypatch):
    q = base_q
    outputs = iter(["You: Is she wearing a hat?", "Garbled", "Does she carry a bag?<|im_end|>"])
    seeds = []

    def fake(initial, dialogue, images, s):
        seeds.extend(s)
        return [next(outputs)]

    monkeypatch.setattr(q, "generate_text", fake)
    s = q.ask(context(DIALOGUE, round_index=3))
    assert s.text == "Does she carry a bag?" and s.questioner == "llava" and s.kind == "yesno"
    assert "after 2 resample(s)" in s.rationale and len(set(seeds)) == 3


def test_before_loading_and_background_load(tiny_llava_base):
    q = LlavaQuestioner(tiny_llava_base, settings={"quantize": "none"}, device="cpu", fallback=StubFallback())
    s = q.ask(context())
    assert s.questioner == "infogain" and "still loading" in s.rationale
    with pytest.warns(RuntimeWarning):
        q.start_loading().join(timeout=120)
    assert q.loaded and q.load_seconds is not None


def test_pack_without_questioner_is_a_clear_user_error(tmp_path):
    from interreid.engine.engines import make_questioner

    (tmp_path / "pack").mkdir()
    with pytest.raises(UserError, match="no questioner.*infogain"):
        load_questioner(tmp_path / "pack")
    try:
        make_questioner("llava", tmp_path / "pack")
    except ImportError:
        pytest.skip("the lite questioners are not there yet")
    except UserError as exc:
        assert "infogain" in str(exc)


def test_load_questioner_from_a_pack_folder(tmp_path, tiny_llava_base, random_adapter):
    from interreid.engine.full.components import add_component_files

    entry = add_component_files(tmp_path / "pack", "questioner", {"base": tiny_llava_base, "adapter": random_adapter},
                                {"max_new_tokens": 5, "quantize": "none"})
    assert "questioner/base/config.json" in entry["files"]
    assert "questioner/adapter/adapter_config.json" in entry["files"]
    with pytest.warns(RuntimeWarning):
        q = load_questioner(tmp_path / "pack", device="cpu")
    assert q.name == "llava" and q.loaded and q.adapter_dir is not None
