"""Table 4-style statistics of an Interactive-PEDES file (paper Appendix A.1, Figure 5)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_TOKEN = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _TOKEN.findall(text or "")]


def _length_row(texts: list[str]) -> dict:
    lengths = [len(_words(t)) for t in texts if t.strip()]
    vocab = {w for t in texts for w in _words(t)}
    if not lengths:
        return {"texts": 0, "max": 0, "min": 0, "mean": 0.0, "unique_words": 0, "lengths": []}
    return {"texts": len(lengths), "max": max(lengths), "min": min(lengths),
            "mean": round(sum(lengths) / len(lengths), 1), "unique_words": len(vocab), "lengths": lengths}


def family_of(kind: str) -> str:
    if kind.startswith("yes_no"):
        return "yes/no"
    if kind.startswith("multiple"):
        return "multiple choice"
    if kind.startswith("descriptive"):
        return "descriptive"
    return "unknown"


def compute_stats(records) -> dict:
    """Description lengths (words) and vocabulary for initial and fine-grained descriptions,
    rounds per dialogue, and question-type shares (from each record's ``question_types`` when
    present)."""
    rounds = [len(r.questions) for r in records]
    kinds = Counter()
    for r in records:
        for k in r.extra.get("question_types") or []:
            kinds[family_of(str(k))] += 1
    typed = sum(kinds.values())
    return {
        "records": len(records), "identities": len({r.id for r in records}),
        "splits": dict(Counter(r.split for r in records)),
        "initial": _length_row([r.initial_description for r in records]),
        "fine": _length_row([r.fine_grained_description for r in records]),
        "rounds": {"mean": round(sum(rounds) / len(rounds), 2) if rounds else 0.0,
                   "min": min(rounds, default=0), "max": max(rounds, default=0),
                   "histogram": {str(k): v for k, v in sorted(Counter(rounds).items())}},
        "question_types": {k: round(v / typed, 3) for k, v in sorted(kinds.items())} if typed else {},
        "questions": sum(rounds),
    }


def format_stats(stats: dict) -> str:
    lines = [f"{stats['records']} records, {stats['identities']} identities; splits: "
             + ", ".join(f"{k} {v}" for k, v in sorted(stats["splits"].items())),
             "",
             f"{'Texts':<24}{'Max length':>11}{'Min length':>11}{'Avg length':>11}{'Unique words':>14}"]
    for label, key in (("Initial descriptions", "initial"), ("Fine-grained", "fine")):
        row = stats[key]
        lines.append(f"{label:<24}{row['max']:>11}{row['min']:>11}{row['mean']:>11.1f}{row['unique_words']:>14}")
    r = stats["rounds"]
    lines += ["", (f"Rounds per dialogue: mean {r['mean']}, min {r['min']}, max {r['max']} "
                   f"({stats['questions']} questions)")]
    if stats["question_types"]:
        lines.append("Question types: " + ", ".join(f"{k} {100 * v:.0f}%"
                                                    for k, v in stats["question_types"].items()))
    return "\n".join(lines)


def plot_stats(stats: dict, out: str | Path) -> Path:
    """Figure 5's two panels (description length, dialogue rounds) plus question-type shares."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for key, label, colour in (("initial", "initial", "#4c72b0"), ("fine", "fine-grained", "#dd8452")):
        lengths = stats[key]["lengths"]
        if lengths:
            axes[0].hist(lengths, bins=min(30, max(5, len(set(lengths)))), alpha=0.7, label=label, color=colour)
    axes[0].set_xlabel("words per description")
    axes[0].set_ylabel("descriptions")
    axes[0].legend()
    hist = stats["rounds"]["histogram"]
    axes[1].bar([int(k) for k in hist], list(hist.values()), color="#55a868")
    axes[1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].set_xlabel("rounds per dialogue")
    axes[1].set_ylabel("dialogues")
    shares = stats["question_types"]
    axes[2].bar(list(shares), [100 * v for v in shares.values()], color="#8172b2")
    axes[2].set_ylabel("% of questions")
    axes[2].set_title("question types")
    fig.suptitle(f"{stats['records']} records, {stats['identities']} identities")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
