"""A stub OpenAI-compatible chat server on 127.0.0.1 for the data-build tests.

It answers the construction prompts by rule, so the pipeline's parsing, caching and validation
are exercised with predictable text: the coarse caption names the image's dominant colour (from
the image bytes sent inline), the fine-grained description adds fixed details, the follow-up drops
the initial sentence, the split numbers the sentences, and each question's answer restates its
sentence -- except a sentence about a "backpack", whose answer invents a hat (so validation has
something to catch). ``delay`` slows every answer (for the kill -9 test). The server stops by
itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COLOURS = {"red": (200, 30, 30), "blue": (30, 30, 200), "green": (30, 160, 30), "yellow": (220, 220, 30),
           "black": (20, 20, 20), "white": (235, 235, 235)}


def _colour_of(data: bytes) -> str:
    import numpy as np
    from PIL import Image

    avg = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64).reshape(-1, 3).mean(0)
    return min(COLOURS, key=lambda c: sum((a - b) ** 2 for a, b in zip(COLOURS[c], avg)))


def reply(prompt: str, image: bytes | None) -> str:
    if prompt.startswith(("Describe the person's clothing", "Generate a brief caption")):
        colour = _colour_of(image) if image else "grey"
        return f"I saw a man in a {colour} jacket."
    if prompt.startswith("Describe the person in the image"):
        init = re.search(r'Begin with "(.*)", and provide', prompt, re.DOTALL).group(1)
        return (f"{init} He has short black hair and a slim build. He wears grey trousers and white sneakers. "
                "He carries a black backpack on his shoulders.")
    if "Follow-up description:" in prompt:
        desc = re.search(r"Description: (.*?)\n\nRewrite", prompt, re.DOTALL).group(1)
        return " ".join(p.strip() for p in re.findall(r"[^.]+\.", desc)[1:])
    if prompt.startswith("Given a person's description"):
        desc = prompt.rsplit("Description: ", 1)[1].split("\n\nSentences:")[0]
        parts = [p.strip() for p in re.findall(r"[^.]+\.", desc)]
        return "\n".join(f"{i}. {p}" for i, p in enumerate(parts, 1))
    if "[sentence]:" in prompt:
        sentence = prompt.rsplit("[sentence]:", 1)[1].strip()
        answer = "He wears a purple hat." if "backpack" in sentence else sentence
        if "assumes something incorrect" in prompt:
            return f"Question: Is he wearing something orange?\nAnswer: No, {answer[0].lower() + answer[1:]}"
        if "yes or no question" in prompt:
            return f"Question: Does he have this feature?\nAnswer: Yes, {answer[0].lower() + answer[1:]}"
        if "multiple-choice" in prompt:
            return ("Question: Which of these fits him?\nA) red shoes\nB) white sneakers\nC) blue boots\n"
                    f"D) black sandals\nAnswer: {answer}")
        return f"Question: What can you tell me about him?\nAnswer: {answer}"
    return "I don't know."


class StubServer:
    def __init__(self, delay: float = 0.0, lifetime: float = 120.0, fail_after: int | None = None):
        self.delay, self.fail_after = delay, fail_after
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    stub.requests.append(body)
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                    n = len(stub.requests)
                try:
                    time.sleep(stub.delay)
                finally:  # counted out before the reply goes, so the client's next request is not overlapped
                    with lock:
                        stub.in_flight -= 1
                if stub.fail_after is not None and n > stub.fail_after:
                    self.send_response(400)
                    self.end_headers()
                    return
                content = body["messages"][0]["content"]
                image = None
                if isinstance(content, list):
                    url = next(p["image_url"]["url"] for p in content if p["type"] == "image_url")
                    image = base64.b64decode(url.split(",", 1)[1])
                    content = next(p["text"] for p in content if p["type"] == "text")
                data = json.dumps({"choices": [{"message": {"role": "assistant",
                                                            "content": reply(content, image)}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1#stub-model"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    def __enter__(self) -> StubServer:  # noqa: PYI034
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        self.stop()
