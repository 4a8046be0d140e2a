"""Training configs: YAML files in ``resources/training/`` with ``key=value`` overrides.

A config is a nested mapping. ``--set a.b=3`` replaces ``config["a"]["b"]``; the value is read as
YAML (``3`` is an int, ``1e-5`` a float, ``[1, 2]`` a list, ``null`` None, anything else a
string). Overriding a key the config does not have is a mistake (a typo would otherwise be
silently ignored) and raises UserError naming the known keys.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterable

import yaml

from ..errors import UserError
from ..paths import resources_dir

STAGES = ("prepare", "selector", "retriever", "questioner", "joint")


def default_config_path(stage: str) -> Path:
    """``resources/training/<stage>.yaml``."""
    return resources_dir() / "training" / f"{stage}.yaml"


def load_config(path: str | Path | None, stage: str) -> dict:
    """Read a YAML training config (the stage's bundled default when ``path`` is None).

    A config given by path is laid over the stage's default, so it need only name what it changes.
    """
    default = default_config_path(stage)
    base = _read(default) if default.exists() else {}
    if path is None:
        return base
    return merge(base, _read(Path(path)))


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"Training config {path} does not exist; give a YAML file (see resources/training/).") from None
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"Training config {path} is not readable YAML ({exc.__class__.__name__}).") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"Training config {path} must be a mapping of settings, not a {type(data).__name__}.")
    return data


def merge(base: dict, over: dict) -> dict:
    """A deep copy of ``base`` with ``over`` laid on top (nested mappings merge)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_overrides(config: dict, overrides: Iterable[str]) -> dict:
    """Apply ``key.sub=value`` strings in order; returns a new config. Raises UserError."""
    out = copy.deepcopy(config)
    for item in overrides or ():
        if "=" not in item:
            raise UserError(f"Override '{item}' must look like key=value (for example train.lr=1e-5).")
        key, raw = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise UserError(f"Override '{item}' names no setting.")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node.get(part), dict):
                raise UserError(f"Unknown setting '{'.'.join(parts[:i + 1])}' in override '{item}'; known: "
                                f"{', '.join(sorted(node))}.")
            node = node[part]
        if parts[-1] not in node:
            raise UserError(f"Unknown setting '{key}' in override '{item}'; known here: {', '.join(sorted(node))}.")
        node[parts[-1]] = value
    return out


def flatten(config: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (for logs)."""
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out
