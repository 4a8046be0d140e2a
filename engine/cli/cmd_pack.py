"""``interreid pack build|verify|install|list``: model packs for air-gapped workstations."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ..errors import UserError
from .output import emit_json


def register(subparsers) -> None:
    p = subparsers.add_parser("pack", help="build, verify, install or list model packs")
    psub = p.add_subparsers(dest="pack_command", metavar="ACTION", required=True)

    b = psub.add_parser("build", help="assemble a model pack from local checkpoints (no network)",
                        description="Export the CLIP retriever to ONNX and write a model pack folder with "
                                    "a manifest of SHA-256 hashes. Give exactly one of --clip, --irra, "
                                    "--random-weights, --from-llava-reid.")
    b.add_argument("out", metavar="OUT", help="new folder for the pack")
    b.add_argument("--clip", metavar="CKPT", help="open_clip / OpenAI CLIP ViT-B/16 checkpoint (77-token text)")
    b.add_argument("--irra", metavar="CKPT", help="IRRA / LLaVA-ReID retriever checkpoint (base_model.*)")
    b.add_argument("--random-weights", action="store_true", help="untrained weights: a pack for testing only")
    b.add_argument("--from-llava-reid", metavar="DIR", help="the authors' LLaVA-ReID checkpoint folder (retriever, "
                   "selector.pth, questioner adapter or merged model): converts all three")
    b.add_argument("--llava-base", metavar="DIR", help="with --from-llava-reid: the lmms-lab/llava-onevision-qwen2-7b-ov "
                   "folder the questioner adapter was trained on")
    b.add_argument("--siglip", metavar="DIR", help="with --from-llava-reid: the google/siglip-so400m-patch14-384 folder "
                   "(the questioner's vision tower)")
    b.add_argument("--selector-heads", type=int, default=8, help=argparse.SUPPRESS)
    b.add_argument("--config", default="clip-reid-vit-b-16",
                   help="model config name in resources/models or a JSON path (default clip-reid-vit-b-16)")
    b.add_argument("--int8", action="store_true", help="also write an int8 image tower (faster on a CPU)")
    b.add_argument("--int8-method", choices=("static", "dynamic"), default="static",
                   help="with --int8: static (calibrated on real crops, the faster; default) or dynamic")
    b.add_argument("--calibration", metavar="DIR", help="with --int8 static: folder of person crops to calibrate "
                   "on (default the bundled demo crops)")
    b.add_argument("--selector", metavar="DIR", help="add a selector component from this folder")
    b.add_argument("--questioner", metavar="DIR", help="add a questioner component from this folder "
                   "(holding base/ and adapter/)")
    b.add_argument("--questioner-base", metavar="DIR", help="questioner base model (HF-format LLaVA-OneVision folder)")
    b.add_argument("--questioner-adapter", metavar="DIR", help="questioner LoRA adapter folder (peft)")
    b.add_argument("--random-selector", action="store_true", help="add an untrained selector (test packs)")
    b.add_argument("--random-questioner", action="store_true",
                   help="add a tiny untrained LLaVA-OneVision questioner (test packs)")
    b.add_argument("--name", default="clip-reid", help="pack name (default clip-reid)")
    b.add_argument("--version", default="0.1.0", help="pack version (default 0.1.0)")
    b.add_argument("--licence", default=None, help="licence of the weights, recorded in the manifest")
    b.add_argument("--source", default=None, help="where the weights come from, recorded in the manifest")
    b.add_argument("--json", action="store_true", help="print the manifest summary as JSON")
    b.set_defaults(func=cmd_build)

    v = psub.add_parser("verify", help="re-hash every file of a pack and check that it loads")
    v.add_argument("dir", metavar="DIR", help="pack folder or installed pack name")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_verify)

    i = psub.add_parser("install", help="copy a pack into the application data folder, checking hashes")
    i.add_argument("src", metavar="SRC", help="pack folder (e.g. on removable media)")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_install)

    ls = psub.add_parser("list", help="installed packs")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)


def summary(manifest) -> dict:
    """What the CLI prints about a pack."""
    comps = manifest.components
    n_files = sum(len(c.get("files", {})) for c in comps.values())
    return {**manifest.info(), "folder": str(manifest.folder), "created": manifest.data.get("created"),
            "licence": manifest.data.get("licence"), "source": manifest.data.get("source"),
            "components": sorted(comps), "files": n_files,
            "int8": bool((comps.get("retriever") or {}).get("image_int8_onnx"))}


def _print(s: dict, verb: str) -> None:
    note = " (random weights: for testing only)" if s["weights"] == "random" else ""
    print(f"{verb} {s['name']} {s['version']}{note}: {', '.join(s['components'])}; {s['files']} files; "
          f"manifest sha256 {s['manifest_sha256'][:16]}; {s['folder']}")


def _component_from_folder(folder: str, what: str) -> dict:
    path = Path(folder)
    if not path.is_dir():
        raise UserError(f"The {what} folder {folder} does not exist; give the folder holding its files.")
    files = {p.relative_to(path).as_posix(): p for p in sorted(path.rglob("*")) if p.is_file()}
    if not files:
        raise UserError(f"The {what} folder {folder} is empty.")
    return {"files": files, "config": {}}


def _llava_components(args, scratch: Path) -> dict:
    """Selector/questioner components from --questioner-base/--questioner-adapter/--random-*
    (random ones are written under ``scratch``)."""
    out: dict = {}
    if args.questioner_adapter and not args.questioner_base:
        raise UserError("--questioner-adapter needs --questioner-base (the model the adapter was trained on).")
    if args.questioner_base:
        for what, folder in (("questioner base", args.questioner_base), ("questioner adapter", args.questioner_adapter)):
            if folder and not (Path(folder) / ("config.json" if what.endswith("base") else "adapter_config.json")).is_file():
                raise UserError(f"The {what} folder {folder} has no "
                                f"{'config.json' if what.endswith('base') else 'adapter_config.json'}; give an "
                                "HF-format model folder and a peft adapter folder.")
        files = {"base": Path(args.questioner_base)}
        if args.questioner_adapter:
            files["adapter"] = Path(args.questioner_adapter)
        out["questioner"] = {"files": files, "config": {}}
    if args.random_selector or args.random_questioner:
        from ..full.random_components import random_questioner_folder, random_selector_folder

        if args.random_selector and not args.selector:
            out["selector"] = _component_from_folder(str(random_selector_folder(scratch / "selector")), "selector")
        if args.random_questioner and "questioner" not in out and not args.questioner:
            folder = random_questioner_folder(scratch / "questioner")
            out["questioner"] = {"files": {"base": folder / "base", "adapter": folder / "adapter"}, "config": {}}
    return out


def _llava_reid_source(args, scratch: Path) -> tuple[str, dict, str]:
    """--from-llava-reid: (retriever checkpoint, selector + questioner components, source line)."""
    clashes = [flag for flag, value in (("--clip", args.clip), ("--irra", args.irra),
                                        ("--random-weights", args.random_weights), ("--selector", args.selector),
                                        ("--questioner", args.questioner), ("--questioner-base", args.questioner_base),
                                        ("--questioner-adapter", args.questioner_adapter),
                                        ("--random-selector", args.random_selector),
                                        ("--random-questioner", args.random_questioner)) if value]
    if clashes:
        raise UserError(f"--from-llava-reid brings its own retriever, selector and questioner; drop {clashes[0]}.")
    from ..full.convert.llava_reid import llava_reid_components

    irra, comps, source = llava_reid_components(args.from_llava_reid, args.llava_base, args.siglip, scratch,
                                                args.selector_heads,
                                                progress=lambda msg: print(msg + "...", file=sys.stderr))
    return str(irra), comps, source


def cmd_build(args) -> int:
    from ..full.pack import build_pack

    if not args.from_llava_reid and (args.llava_base or args.siglip):
        raise UserError("--llava-base and --siglip go with --from-llava-reid (the authors' checkpoint folder).")
    components = {}
    if args.selector:
        components["selector"] = _component_from_folder(args.selector, "selector")
    if args.questioner:
        components["questioner"] = _component_from_folder(args.questioner, "questioner")
    if args.calibration and not (args.int8 and args.int8_method == "static"):
        raise UserError("--calibration goes with --int8 (static): it is the crops the int8 tower is calibrated on.")
    print(f"building model pack {args.name} {args.version} in {args.out} (export to ONNX"
          f"{f' + {args.int8_method} int8' if args.int8 else ''}; this takes a minute)...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="interreid-components-") as scratch:
        irra, source = args.irra, args.source
        if args.from_llava_reid:
            irra, converted, converted_source = _llava_reid_source(args, Path(scratch))
            components.update(converted)
            source = source or converted_source
        else:
            components.update(_llava_components(args, Path(scratch)))
        manifest = build_pack(args.out, clip_ckpt=args.clip, irra_ckpt=irra, int8=args.int8,
                              int8_method=args.int8_method, calibration=args.calibration,
                              random_weights=args.random_weights, config=args.config, name=args.name,
                              version=args.version, licence=args.licence, source=source,
                              components=components or None)
    s = summary(manifest)
    emit_json(s) if args.json else _print(s, "built")
    return 0


def cmd_verify(args) -> int:
    from ..full.pack import resolve_pack, verify_pack

    s = summary(verify_pack(resolve_pack(args.dir)))
    s["verified"] = True
    emit_json(s) if args.json else _print(s, "verified")
    return 0


def cmd_install(args) -> int:
    from ..full.pack import install_pack, read_manifest

    s = summary(read_manifest(install_pack(args.src)))
    emit_json(s) if args.json else _print(s, "installed")
    return 0


def cmd_list(args) -> int:
    from ..full.pack import list_installed_packs, packs_dir

    rows = [summary(m) for m in list_installed_packs()]
    if args.json:
        emit_json({"packs_dir": str(packs_dir()), "packs": rows})
    elif not rows:
        print(f"no model packs installed in {packs_dir()}")
    else:
        for s in rows:
            _print(s, "-")
    return 0
