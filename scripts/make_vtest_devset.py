"""Build the real dev set resources/devsets/vtest/ from the demo gallery's crops of vtest.avi.

Identities were assigned by eye from contact sheets of every crop in resources/demo/crops (crop
numbers below are row numbers of resources/demo/provenance.csv, 0-based, header excluded); only
crops whose person is unambiguous were kept (no second person covering the body, front or side
views where the clothes can be told apart). The descriptions and question/answer pairs were
written from the crops before the lite engine was tuned against them. Run from the repository root:

    python scripts/make_vtest_devset.py
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "resources" / "demo"
OUT = ROOT / "resources" / "devsets" / "vtest"

# id, crop numbers, initial description, fine-grained description, [(question, answer), ...]
PEOPLE = [
    (1, [7, 12, 14, 20, 27, 30, 89, 103],
     "A young man in a dark puffy jacket with red on the shoulders, carrying some papers.",
     "He had short black hair. He wore a navy blue padded puffer jacket with red shoulders and red upper "
     "sleeves. His trousers were dark navy. His shoes were white trainers. He carried white papers in his hand.",
     [("What colour were his trousers?", "Dark, navy I think."),
      ("What colour were his shoes?", "White trainers."),
      ("What colour was his hair?", "Black, short."),
      ("Was he wearing long trousers, shorts or a skirt?", "Long trousers."),
      ("What colour was the main part of his jacket?", "Navy blue, quite dark."),
      ("Did his jacket have long or short sleeves?", "Long sleeves."),
      ("Was he carrying anything?", "Some white papers.")]),
    (2, [141, 143, 151, 155, 160, 169, 175, 204],
     "A woman with long dark hair in a red jacket.",
     "She had long black hair. She wore a bright red short jacket with long sleeves. She wore blue jeans. "
     "Her shoes were dark. She held a sheet of paper.",
     [("What colour were her trousers?", "Blue jeans."),
      ("What colour were her shoes?", "Dark, black I think."),
      ("What colour was her hair?", "Long and black."),
      ("Was she wearing long trousers, shorts or a skirt?", "Jeans, long ones."),
      ("What colour was her jacket?", "Red, bright red."),
      ("Did her jacket have long or short sleeves?", "Long sleeves."),
      ("Was she carrying anything?", "A piece of paper.")]),
    (3, [8, 10, 15, 19, 24, 95, 105, 196],
     "A woman with curly blonde hair wearing a long black coat.",
     "She had curly blonde hair down to her shoulders. She wore a long black coat. She wore blue jeans. "
     "Her shoes were light brown.",
     [("What colour were her trousers?", "Blue jeans."),
      ("What colour were her shoes?", "Brownish, I think."),
      ("What colour was her hair?", "Blonde, curly."),
      ("Was she wearing long trousers, shorts or a skirt?", "Long trousers, jeans."),
      ("What colour was her coat?", "Black."),
      ("Did her coat have long or short sleeves?", "Long sleeves."),
      ("Was she carrying anything?", "I don't think so.")]),
    (4, [39, 47, 53, 58, 65],
     "A woman in a light blue hooded jacket with a white hat and a bag over her shoulder.",
     "She wore a white woolly hat. She wore a pale light blue padded jacket with a hood. She wore flared blue "
     "jeans. Her shoes were dark. She had a brown leather bag over her shoulder.",
     [("What colour was her hair?", "I couldn't see it, she had a white hat on."),
      ("What colour were her trousers?", "Blue jeans, flared at the bottom."),
      ("What colour were her shoes?", "Dark shoes."),
      ("Was she wearing long trousers, shorts or a skirt?", "Long trousers."),
      ("What colour was her jacket?", "Light blue, very pale."),
      ("What colour was her bag?", "Brown."),
      ("Did her jacket have long or short sleeves?", "Long sleeves.")]),
    (5, [208, 214, 221, 227, 235],
     "An older man in a blue jacket carrying a paper bag.",
     "He had short grey hair. He wore a mid blue zipped jacket with a dark hood. His trousers were grey. "
     "His shoes were dark brown. He carried a brown paper bag.",
     [("What colour were his trousers?", "Grey trousers."),
      ("What colour were his shoes?", "Brown or dark, I'm not sure."),
      ("What colour was his hair?", "Grey, short."),
      ("Was he wearing long trousers, shorts or a skirt?", "Long trousers."),
      ("What colour was his jacket?", "Blue, a medium blue."),
      ("Did his jacket have long or short sleeves?", "Long."),
      ("Was he carrying anything?", "A brown paper bag.")]),
    (6, [49, 57, 60, 70, 85],
     "A black man in a dark striped jumper and jeans.",
     "He had very short black hair. He wore a navy blue jumper with thin horizontal stripes. He wore light "
     "blue jeans. His shoes were white trainers.",
     [("What colour was his jumper?", "Dark blue, navy, with stripes."),
      ("What colour were his trousers?", "Light blue jeans."),
      ("What colour were his shoes?", "White trainers."),
      ("What colour was his hair?", "Black, very short."),
      ("Was he wearing long trousers, shorts or a skirt?", "Long trousers."),
      ("Did his jumper have long or short sleeves?", "Long sleeves.")]),
    (7, [98, 107, 112, 200, 224, 262],
     "A bald man with a beard in a black jacket and jeans.",
     "He had a shaved head and a short beard. He wore a black zipped jacket. He wore blue jeans. "
     "His shoes were black.",
     [("What colour was his jacket?", "Black."),
      ("What colour were his trousers?", "Blue jeans."),
      ("What colour were his shoes?", "Black, I think."),
      ("What colour was his hair?", "He was bald, maybe a little dark stubble."),
      ("Was he wearing long trousers, shorts or a skirt?", "Long trousers."),
      ("Did his jacket have long or short sleeves?", "Long sleeves.")]),
    (8, [0, 13, 28, 33, 40, 56, 59],
     "A young man with dark hair in a brown leather jacket and jeans.",
     "He had short dark brown hair. He wore a dark brown leather jacket over a black top. He wore blue jeans. "
     "His shoes were grey trainers.",
     [("What colour was his jacket?", "Dark brown, leather."),
      ("What colour were his trousers?", "Blue jeans."),
      ("What colour were his shoes?", "Grey or light, trainers."),
      ("What colour was his hair?", "Dark brown, short."),
      ("What was he wearing under the jacket?", "A black top."),
      ("Was he wearing long trousers, shorts or a skirt?", "Long trousers.")]),
    (9, [2, 4, 22, 23, 29, 35, 38],
     "A man dressed all in black, black coat and black trousers.",
     "He had short dark hair. He wore a black knee-length coat. His trousers were black. His shoes were black.",
     [("What colour was his coat?", "Black."),
      ("What colour were his trousers?", "Black."),
      ("What colour were his shoes?", "Black."),
      ("What colour was his hair?", "Dark, black."),
      ("Was he wearing long trousers, shorts or a skirt?", "Long trousers."),
      ("Did his coat have long or short sleeves?", "Long sleeves.")]),
    (10, [48, 51, 55, 61],
     "A man with glasses in a black leather jacket and black trousers.",
     "He had short black hair and glasses. He wore a shiny black leather jacket over a dark top. "
     "His trousers were black. His shoes were black.",
     [("What colour was his jacket?", "Black leather."),
      ("What colour were his trousers?", "Black."),
      ("What colour were his shoes?", "Black."),
      ("What colour was his hair?", "Black, short."),
      ("Was he wearing long trousers, shorts or a skirt?", "Long trousers."),
      ("Was he carrying anything?", "Something white in his hand, maybe a paper.")]),
]


def main() -> None:
    rows = list(csv.DictReader((DEMO / "provenance.csv").open(encoding="utf-8")))
    images = OUT / "images"
    if images.exists():
        shutil.rmtree(images)
    images.mkdir(parents=True)
    records, provenance = [], []
    for pid, crops, initial, fine, qa in PEOPLE:
        for n in crops:
            src = DEMO / rows[n]["file"]
            name = f"{pid:02d}_{src.name}"
            shutil.copyfile(src, images / name)
            sha = hashlib.sha256((images / name).read_bytes()).hexdigest()
            records.append({"split": "test", "id": pid, "file_path": f"images/{name}",
                            "initial_description": initial, "fine-grained_description": fine,
                            "questions": [q for q, _ in qa], "answers": [a for _, a in qa],
                            "captions": [fine]})
            provenance.append({"file": f"images/{name}", "sha256": sha, "id": pid,
                               **{k: rows[n][k] for k in ("frame", "x", "y", "w", "h", "hog_score")},
                               "demo_crop": rows[n]["file"]})
    (OUT / "annos.json").write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    with (OUT / "provenance.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(provenance[0]))
        w.writeheader()
        w.writerows(provenance)
    print(f"{len(records)} images of {len(PEOPLE)} people -> {OUT}")


if __name__ == "__main__":
    main()
