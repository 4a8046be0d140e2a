"""``interreid train retriever|prepare|selector|questioner|joint``: train a model pack's parts.

Each stage reads a YAML config (default ``resources/training/<stage>.yaml``); ``--set key=value``
overrides any value (repeatable, dotted keys: ``--set train.lr=1e-5``). ``--out DIR`` is where
the stage writes (checkpoints, ``log.csv``, ``curve.png``, its result); ``--resume`` continues
an interrupted run in that folder with identical results.
"""

from __future__ import annotations

import argparse

from ..errors import UserError
from .output import ProgressBar, emit_json

STAGE_HELP = {
    "prepare": "looking-forward supervision (paper Eq. 9): the questioner's training file",
    "retriever": "IRRA training of the CLIP retriever (SDM + ID + MLM losses)",
    "selector": "warm-up of the candidate selector (BCE against the retriever's top-4, Gumbel top-k)",
    "questioner": "QLoRA fine-tuning of the LLaVA-OneVision questioner on the prepared file",
    "joint": "selector + questioner jointly (k-hot weighting of the candidates' visual features)",
}


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train the retriever, selector and questioner of a model pack",
                                  description="Train a model pack's parts on Interactive-PEDES-format data.")
    stages = train.add_subparsers(dest="stage", metavar="STAGE")
    for stage, help_text in STAGE_HELP.items():
        p = stages.add_parser(stage, help=help_text, description=help_text)
        p.add_argument("--config", metavar="YAML", help=f"training config (default resources/training/{stage}.yaml)")
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config value (repeatable; dotted keys)")
        p.add_argument("--out", metavar="DIR", help="output folder (default: out/train-<stage>)")
        p.add_argument("--resume", action="store_true", help="continue the run in --out")
        p.add_argument("--json", metavar="OUT", nargs="?", const="-", help="write the result as JSON")
        if stage == "prepare":
            p.add_argument("--pack", metavar="PACK", help="rank with this model pack's CLIP retriever (default lite)")
        p.set_defaults(func=cmd_train, stage=stage)
    train.set_defaults(func=lambda args: (_ for _ in ()).throw(UserError(
        "Name a stage: interreid train retriever|prepare|selector|questioner|joint --config CONFIG.yaml")))


def _progress(label: str, total: int) -> ProgressBar:
    return ProgressBar(label, total)


def cmd_train(args: argparse.Namespace) -> int:
    from ..training.config import apply_overrides, load_config

    cfg = apply_overrides(load_config(args.config, args.stage), args.overrides)
    out = args.out or f"out/train-{args.stage}"
    if args.stage == "prepare":
        from ..training.prepare import run_prepare

        result = run_prepare(cfg, out, resume=args.resume, pack=args.pack, progress_factory=_progress)
    elif args.stage == "retriever":
        from ..training.retriever import run_retriever

        result = run_retriever(cfg, out, resume=args.resume, progress_factory=_progress)
    elif args.stage == "selector":
        from ..training.selector import run_selector

        result = run_selector(cfg, out, resume=args.resume, progress_factory=_progress)
    elif args.stage == "questioner":
        from ..training.questioner import run_questioner

        result = run_questioner(cfg, out, resume=args.resume, progress_factory=_progress)
    else:
        from ..training.joint import run_joint

        result = run_joint(cfg, out, resume=args.resume, progress_factory=_progress)
    if args.json:
        emit_json(result, args.json)
    else:
        _print(args.stage, result)
    return 0


def _print(stage: str, result: dict) -> None:
    keys = [k for k in result if not isinstance(result[k], (dict, list)) or k in ("mean_rank_by_round",)]
    print(f"train {stage}: " + ", ".join(f"{k} {result[k]}" for k in keys))
