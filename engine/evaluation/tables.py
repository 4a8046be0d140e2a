"""The interactive benchmark's outputs: paper Table 1 as a terminal table, Figure 4 as a PNG."""

from __future__ import annotations

from pathlib import Path

from .runner import BenchResult

TABLE_METRICS = ("R@1", "R@5", "R@10", "mAP", "mINP")


def report_rounds(rounds: int) -> list[int]:
    """The rounds Table 1 reports: 3 and 5 (the last round, and 3 when there are more than 3)."""
    return sorted({min(3, rounds), rounds})


def format_table(result: BenchResult) -> str:
    """Table 1's layout: R@1/R@5/R@10/mAP/mINP after rounds 3 and 5, BRI, and the mean rank of the
    first correct image after the last round; one row per method (and selector)."""
    rounds = result.settings.rounds
    shown = report_rounds(rounds)
    label_w = max([len("Method")] + [len(r.label) for r in result.runs])
    cell = 7
    group_w = cell * len(TABLE_METRICS)
    head1 = f"{'':<{label_w}} |" + "|".join(f" {'Round ' + str(r):<{group_w - 1}}" for r in shown) + \
        f"| {'BRI ↓':>6} | {'rank@' + str(rounds):>7}"
    head2 = f"{'Method':<{label_w}} |" + "|".join("".join(f"{m:>{cell}}" for m in TABLE_METRICS) for _ in shown) + \
        f"| {'':>6} | {'mean':>7}"
    lines = [head1, head2, "-" * len(head2)]
    for run in result.runs:
        per_round = run.per_round()
        if not per_round:
            lines.append(f"{run.label:<{label_w}} | (no finished queries)")
            continue
        groups = ["".join(f"{per_round[r][m]:>{cell}.2f}" for m in TABLE_METRICS) for r in shown]
        b = run.bri()
        bri_text = f"{b:6.3f}" if b is not None else f"{'-':>6}"
        lines.append(f"{run.label:<{label_w}} |" + "|".join(groups) +
                     f"| {bri_text} | {per_round[rounds]['mean_rank']:7.2f}")
    done = result.queries_done
    tail = (f"{done} queries" + (f" of {result.queries_planned} (interrupted)" if result.interrupted else "") +
            f", gallery {result.gallery['images']} images / {result.gallery['identities']} identities "
            f"({result.settings.split} split), answerer {result.answerer}{_prompt(result)}, {result.elapsed_s:.1f} s")
    return "\n".join(lines + ["", tail])


def _prompt(result) -> str:
    """The witness's prompt file when it is not the paper's: a different prompt is a different witness."""
    path = result.settings.witness_prompt
    return f" (prompt {path.name})" if path else ""


def plot_rounds(result: BenchResult, path: str | Path) -> Path:
    """Paper Figure 4: R@1 (solid) and R@5 (dashed) against rounds, one colour per method."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    path = Path(path)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, run in enumerate(result.runs):
        per_round = run.per_round()
        if not per_round:
            continue
        x = [p["round"] for p in per_round]
        c = colours[i % len(colours)]
        ax.plot(x, [p["R@1"] for p in per_round], "-o", color=c, ms=3, label=f"{run.label} R@1")
        ax.plot(x, [p["R@5"] for p in per_round], "--s", color=c, ms=3, label=f"{run.label} R@5")
    ax.set_xlabel("round (number of questions)")
    ax.set_ylabel("recall (%)")
    ax.set_xticks(range(result.settings.rounds + 1))
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(f"Retrieval vs. rounds — {result.queries_done} queries, answerer {result.answerer}", fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
