"""Words the lite description parser knows: garments by body region, colour words, modifiers.

Data only; ``parser`` holds the rules. Regions and attribute names match ``layout`` and the
synthetic data's attribute keys (head, upper, lower, feet, lower_length, sleeves).
"""

from __future__ import annotations

#: words for the hair, for headwear, for bags (shared with the simulated witnesses' question rules)
HAIR_WORDS = frozenset({"hair", "haired"})
HAT_WORDS = frozenset("hat hats cap caps beanie helmet hood".split())
BAG_WORDS = frozenset("bag bags backpack handbag purse".split())
#: verbs that say something is carried ("Was she carrying anything?" asks about a bag)
CARRY_WORDS = frozenset("carrying carry carried carries".split())

#: garment / body-part noun -> regions it colours. An empty tuple marks a noun that takes colours
#: but is not a body region (a bag, a car), so its colour is not given to a garment by mistake.
GARMENTS: dict[str, tuple[str, ...]] = {}
for _words, _regions in (
    ("hair head " + " ".join(sorted(HAT_WORDS)), ("head",)),
    ("jacket jackets shirt shirts tshirt tshirts tee top tops coat coats sweater sweaters jumper hoodie "
     "blouse vest cardigan sweatshirt jersey parka blazer pullover tank polo windbreaker upper torso "
     "sleeve sleeves", ("upper",)),
    ("trousers pants jeans shorts skirt skirts leggings slacks bottoms lower joggers sweatpants chinos "
     "tights legs", ("lower",)),
    ("shoes shoe boots boot sneakers sneaker trainers trainer sandals heels footwear feet loafers "
     "slippers socks", ("feet",)),
    ("dress dresses suit overalls jumpsuit outfit clothes clothing", ("upper", "lower")),
    (" ".join(sorted(BAG_WORDS)) + " umbrella glasses sunglasses phone bicycle bike car skin scarf "
     "gloves belt watch mask box suitcase case luggage paper papers newspaper folder file bottle cup", ()),
):
    for _w in _words.split():
        GARMENTS[_w] = _regions


def region_words(region: str) -> frozenset[str]:
    """The garment nouns that colour exactly ``region`` (e.g. "upper": top, jacket, ...)."""
    return frozenset(w for w, regions in GARMENTS.items() if regions == (region,))


#: parts of a garment: a colour said of one ("red on the shoulders", "white stripes") covers a small part
#: of its region, so it counts as a detail (``parser.DETAIL_WEIGHT``) and does not settle the colour
DETAIL_WORDS = frozenset("shoulder shoulders stripe stripes collar collars cuff cuffs trim trims logo logos "
                         "pattern patterns print prints panel panels pocket pockets zip zipper buttons sleeve "
                         "sleeves lining hem".split())
#: people: "a black man", "a white woman" say the skin, not the clothes
PERSON_WORDS = frozenset("man men woman women person people guy guys lady ladies girl girls boy boys male "
                         "female gentleman lad".split())
#: a bald or shaved head shows skin: a colour said about it is not a hair colour
BALD_WORDS = frozenset("bald shaved shaven".split())

#: garment noun -> lower_length value it implies
LENGTH_NOUNS: dict[str, str] = {"shorts": "short", "skirt": "short", "skirts": "short", "trousers": "long",
                                "pants": "long", "jeans": "long", "leggings": "long", "slacks": "long",
                                "joggers": "long", "sweatpants": "long", "chinos": "long"}

#: colour word -> ((basic term, weight), ...)
COLOUR_WORDS: dict[str, tuple[tuple[str, float], ...]] = {
    **{t: ((t, 1.0),) for t in ("black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple",
                                "pink", "brown")},
    "gray": (("grey", 1.0),), "silver": (("grey", 1.0),), "charcoal": (("grey", 0.7), ("black", 0.3)),
    "navy": (("blue", 1.0),), "cyan": (("blue", 1.0),), "denim": (("blue", 0.5),),
    "teal": (("blue", 0.5), ("green", 0.5)), "turquoise": (("blue", 0.5), ("green", 0.5)),
    "maroon": (("red", 1.0),), "burgundy": (("red", 1.0),), "crimson": (("red", 1.0),),
    "scarlet": (("red", 1.0),), "wine": (("red", 1.0),),
    "beige": (("brown", 1.0),), "tan": (("brown", 1.0),), "khaki": (("brown", 1.0),), "camel": (("brown", 1.0),),
    "chocolate": (("brown", 1.0),), "coffee": (("brown", 1.0),),
    "violet": (("purple", 1.0),), "lilac": (("purple", 1.0),), "lavender": (("purple", 1.0),),
    "magenta": (("pink", 0.5), ("purple", 0.5)), "fuchsia": (("pink", 1.0),), "rose": (("pink", 1.0),),
    "cream": (("white", 1.0),), "ivory": (("white", 1.0),),
    "olive": (("green", 1.0),), "lime": (("green", 1.0),),
    "gold": (("yellow", 1.0),), "golden": (("yellow", 1.0),), "blond": (("yellow", 1.0),),
    "blonde": (("yellow", 1.0),), "ginger": (("orange", 1.0),), "auburn": (("red", 0.5), ("brown", 0.5)),
    "peach": (("orange", 0.5), ("pink", 0.5)),
}
# "reddish", "bluish", "greyish" ...
for _t in ("red", "blue", "green", "grey", "gray", "brown", "pink", "purple", "orange", "yellow", "white", "black"):
    COLOUR_WORDS[_t + "ish"] = tuple((c, 0.7 * w) for c, w in COLOUR_WORDS[_t])
COLOUR_WORDS["bluish"] = COLOUR_WORDS["blueish"]
# the usual spellings (a doubled consonant, a dropped e): "reddish" was read as nothing but its shade
COLOUR_WORDS.update({"reddish": COLOUR_WORDS["redish"], "purplish": COLOUR_WORDS["purpleish"],
                     "whitish": COLOUR_WORDS["whiteish"]})

#: words that may stand between a colour and its garment ("dark blue long-sleeved denim jacket")
MODIFIERS = frozenset(
    "dark light pale bright deep navy long short sleeved sleeve sleeveless denim leather cotton wool woollen "
    "woolen striped plaid checked check plain baggy tight skinny loose coloured colored running sports sport "
    "high heeled knee length ankle hooded zip zipped button buttoned puffer puffy rain winter summer casual "
    "formal mini midi maxi thin thick fitted full half flat canvas suede a an the his her their its".split())
#: "dark" or "light" with no colour word: a weak achromatic guess
#: (the colour "dark"/"light" is a family: any dark colour, any light colour; see ``calibration``)
SHADE_ONLY: dict[str, tuple[tuple[str, float], ...]] = {"dark": (("dark", 0.7),), "light": (("light", 0.6),),
                                                       "pale": (("light", 0.6),)}
#: words that put a colour in a shade family ("dark blue" is also partly black)
SHADE_WORDS: dict[str, str] = {"dark": "dark", "deep": "dark", "navy": "dark", "charcoal": "dark",
                               "light": "light", "pale": "light", "pastel": "light", "cream": "light"}
#: words that may stand inside a colour group without ending it ("very dark", "quite pale")
INTENSIFIERS = frozenset("very quite really fairly rather bit little mostly mainly all".split())
NEGATORS = frozenset("not no never without neither nor none nothing".split())
#: words that end a negation's scope (besides punctuation)
SCOPE_ENDS = frozenset("but instead rather though however although while whereas".split())
#: hedges: colours in the sentence count half
HEDGES = frozenset("maybe perhaps probably possibly think guess might believe seemed seems looked could "
                   "reckon suppose somewhat".split())
HEDGE_PHRASES = ("sort of", "kind of", "or so", "or something", "i'm not certain", "not certain")
#: sentences holding one of these say the witness does not know; they are dropped
DONT_KNOW = ("don't know", "do not know", "dont know", "not sure", "no idea", "can't remember",
             "cannot remember", "can not remember", "don't remember", "do not remember", "dont remember",
             "can't recall", "cannot recall", "don't recall", "didn't see", "did not see", "didn't notice",
             "did not notice", "unsure", "dunno", "can't say", "cannot say", "can't tell", "cannot tell")
SHORT_SLEEVE_PHRASES = ("short sleeve", "short sleeved", "sleeveless", "tank top")
LONG_SLEEVE_PHRASES = ("long sleeve", "long sleeved")

#: region -> the word an investigator reads for it
REGION_WORDS = {"head": "hair/head", "upper": "top", "lower": "trousers/legs", "feet": "shoes"}
#: small words that carry no description (not reported as "not understood")
STOPWORDS = frozenset(
    "the and was were wore wearing wear worn had has have with his her their him she they them that this "
    "what which who yes and but also some any one two over under into onto from for its it's it's i'm "
    "think just like looked look about around there here then than very quite really man woman person "
    "guy lady girl boy young old older male female adult someone something she's he's they're i've "
    "did does think sure know yeah yes nope okay well kind sort".split())
KNOWN_WORDS = frozenset(COLOUR_WORDS) | frozenset(GARMENTS) | MODIFIERS | NEGATORS | SCOPE_ENDS | HEDGES \
    | frozenset(SHADE_ONLY) | INTENSIFIERS | frozenset("sleeved sleeveless".split())
