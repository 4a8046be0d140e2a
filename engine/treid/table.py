"""``bench interactive --treid``: the paper's Table 2 layout in the terminal."""

from __future__ import annotations

METRICS = ("R@1", "R@5", "R@10", "mAP")


def format_treid_table(result) -> str:
    """Per T-ReID model: the model alone on the initial description, then each run's dialogue
    after the last round fused with it; the interactive retriever alone below, for comparison."""
    from ..evaluation.runner import treid_summary  # noqa: PLC0415

    rounds = result.settings.rounds
    blocks = []
    for model in treid_summary(result):
        rows = [(f"{model['name']} (initial description)", model["alone"])]
        for label, per_round in model["fused"].items():
            rows.append((f"  + {label}, {rounds} rounds", per_round[-1]))
        own = []
        for run in result.runs:
            per_round = run.per_round()
            if per_round:
                own.append((f"  {run.label}, {rounds} rounds" if run.spec.method != "initial"
                            else "  initial description", per_round[-1]))
        width = max(len(r[0]) for r in rows + own + [("Method", None)]) + 2
        head = f"{'Method':<{width}}" + "".join(f"{m:>8}" for m in METRICS)
        lines = [f"T-ReID re-ranking (paper Table 2), weight {model['weight']:g} on the T-ReID model:",
                 head, "-" * len(head)]
        lines += [f"{name:<{width}}" + "".join(f"{m[k]:>8.2f}" for k in METRICS) for name, m in rows]
        if own:
            lines.append("The interactive retriever alone:")
            lines += [f"{name:<{width}}" + "".join(f"{m[k]:>8.2f}" for k in METRICS) for name, m in own]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
