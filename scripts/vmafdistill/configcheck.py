"""The workflow config, checked in one place: its JSON schema (schemas/config.schema.yaml, the contract)
and the checks across keys (the teachers, tiers against archs and poolings), one clear line per problem.

``check_config`` returns what the rules need of it (``Setup``: the teachers, each tier's spec) or raises
``ConfigError`` listing every problem. The corpus is checked where it is read (``corpus``, at ingestion).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from .archs import resolve_hparams
from .libvmaf_model import ModelError
from .teacher import PHONE_NAME, Teacher, load_teacher


class ConfigError(Exception):
    """The workflow config breaks its schema or a rule across keys: each line names the key and what is wrong."""


@dataclass(frozen=True)
class Setup:
    """What the rules take from a valid config."""

    teachers: dict[str, Teacher]  # name (its results/teachers/<name>/ folder) -> teacher, in config order
    specs: dict[str, list]  # name -> its spelling for the jobs: [built-in name or model file, "phone" or None]


def schema_problems(config: dict, schema_path: str | Path) -> list[str]:
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "additionalProperties":
            allowed = sorted(err.schema.get("properties", {}))
            extra = sorted(set(err.instance) - set(allowed))
            problems.append(f"config {where}: unknown key(s) {', '.join(map(repr, extra))}; "
                            f"allowed: {', '.join(allowed)}")
        else:
            problems.append(f"config key {where}: {err.message}")
    return problems


def teacher_specs(config: dict) -> list[tuple[str, list]]:
    """(config key, [model, transform]) of every configured teacher: `teachers` when it lists any, else
    `teacher_model` (a file) or `teacher`, with `teacher_transform`. In `teachers`, `vmaf_v0.6.1_phone`
    names vmaf_v0.6.1 with its phone transform, a path ending in .json a model file."""
    listed = list(config.get("teachers") or [])
    if listed:
        out = []
        for i, entry in enumerate(listed):
            entry = str(entry)
            spec = ["vmaf_v0.6.1", "phone"] if entry == PHONE_NAME else [entry, None]
            out.append((f"teachers[{i}]", spec))
        return out
    transform = config.get("teacher_transform") or None
    transform = None if transform == "none" else transform
    key = "teacher_model" if config.get("teacher_model") else "teacher"
    return [(key, [str(config.get(key) or "vmaf_v0.6.1"), transform])]


def tier_problems(config: dict) -> list[str]:
    """Each tier's arch is a configured arch, precision `exact` goes with an arch of kind `exact` (and only
    with it), and its pooling is a configured pooling (the gate needs its LOSO result)."""
    archs, poolings, problems = config.get("archs") or {}, list(config.get("pooling") or []), []
    for tier, spec in (config.get("tiers") or {}).items():
        arch = spec["arch"]
        if arch not in archs:
            problems.append(f"config tiers.{tier}.arch: {arch!r} is not a key of config `archs` ({', '.join(archs)})")
            continue
        try:
            kind = resolve_hparams(arch, archs[arch] or {})["kind"]
        except KeyError as exc:
            problems.append(f"config archs.{arch}: {exc.args[0]}")
            continue
        if (spec["precision"] == "exact") != (kind == "exact"):
            problems.append(f"config tiers.{tier}: precision `exact` goes with an arch of kind `exact` (and only with "
                            f"it); arch {arch!r} with precision {spec['precision']!r}")
        if spec["pooling"] not in poolings:
            problems.append(f"config tiers.{tier}.pooling: {spec['pooling']!r} is not in config `pooling` {poolings} "
                            "(the gate needs its LOSO result)")
    return problems


def check_config(config: dict, schema_path: str | Path) -> Setup:
    """The config against its schema and across keys; ConfigError with every problem, one a line."""
    problems = schema_problems(config, schema_path)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    teachers: dict[str, Teacher] = {}
    specs: dict[str, list] = {}
    for key, spec in teacher_specs(config):
        try:
            teacher = load_teacher(*spec)
        except ModelError as exc:
            problems.append(f"config {key}: {exc}")
            continue
        if teacher.name in teachers:
            problems.append(f"config {key}: teacher {teacher.name} is listed twice")
        teachers[teacher.name], specs[teacher.name] = teacher, spec
    problems += tier_problems(config)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return Setup(teachers, specs)


__all__ = ["ConfigError", "Setup", "check_config", "schema_problems", "teacher_specs", "tier_problems"]
