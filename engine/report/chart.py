"""The rank-over-rounds chart of the marked images: a matplotlib figure (Agg) as PNG bytes."""

from __future__ import annotations

import io

#: a mark's colour, the same in the app (its frames, cards and chart) and the report
MARK_COLOURS = {"match": "#2e7d32", "possible": "#ef8f00", "excluded": "#9e9e9e"}


def rank_chart_png(rank_history: dict[str, list[tuple[int, int]]], marks: dict[str, dict],
                   width_in: float = 7.0, height_in: float = 3.2, dpi: int = 150,
                   beyond: dict[str, set[int]] | None = None, kept: int | None = None) -> bytes | None:
    """PNG of rank (1 = best, log scale when ranks spread widely) against round for each marked image.

    ``beyond``: per image, the rounds whose point lies below the top ``kept`` rows the case keeps (a rank
    counted over the whole gallery): drawn as open circles, under a dashed line labelled with ``kept``.
    Returns None when no marked image has a rank to plot.
    """
    series = {sha: pts for sha, pts in rank_history.items() if pts}
    if not series:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # lazy: heavy
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    worst = max([r for pts in series.values() for _t, r in pts] + ([kept] if kept and any((beyond or {}).values())
                                                                     else []))
    rounds = sorted({t for pts in series.values() for t, _r in pts})
    styles = ["-o", "-s", "-^", "-D", "-v", "-P", "-X", "-*"]
    for i, (sha, pts) in enumerate(series.items()):
        mark = marks.get(sha, {}).get("mark", "")
        xs, ys = zip(*pts)
        ax.plot(xs, ys, styles[i % len(styles)], color=MARK_COLOURS.get(mark), markersize=5, linewidth=1.6,
                label=f"{mark.capitalize() or 'Not marked'}: {sha[:12]}…")
        ax.annotate(f"{ys[-1]:,}", (xs[-1], ys[-1]), textcoords="offset points", xytext=(6, 0), fontsize=7,
                    va="center")
        below = [(x, y) for x, y in pts if x in (beyond or {}).get(sha, set())]
        if below:
            bx, by = zip(*below)
            ax.plot(bx, by, "o", color=MARK_COLOURS.get(mark), markerfacecolor="white", markersize=7,
                    markeredgewidth=1.6, linestyle="none")
    if kept and any((beyond or {}).values()):
        ax.axhline(kept, color="#555555", linestyle="--", linewidth=1.0)
        ax.annotate(f"top {kept:,} kept in the case; open circles: counted ranks below it", (0.0, kept),
                    xycoords=("axes fraction", "data"), textcoords="offset points", xytext=(4, 3), fontsize=6.5,
                    color="#555555")
    if worst > 20:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 1 else ""))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(worst * (1.6 if worst > 20 else 1.0) + 0.5, 0.8)  # rank 1 at the top
    if worst <= 20:
        ax.set_yticks(sorted({1, *[r for pts in series.values() for _t, r in pts]}))
    ax.set_xticks(rounds)
    ax.set_xticklabels(["initial" if t == 0 else f"after {t}" for t in rounds], fontsize=8)
    ax.set_xlabel("ranking (after round)", fontsize=8)
    ax.set_ylabel("rank in gallery (1 = best)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(True, alpha=0.3)
    ax.set_title("Rank of each marked image over the interview", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
