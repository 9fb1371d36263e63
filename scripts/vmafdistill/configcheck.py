"""Config validation with one clear line per problem (the JSON schema in schemas/ is the contract)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml


class ConfigError(Exception):
    """The workflow config breaks its schema: each line names the key and what is wrong."""


def config_problems(config: dict, schema_path: str | Path) -> list[str]:
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "additionalProperties":
            allowed = sorted(err.schema.get("properties", {}))
            extra = sorted(set(err.instance) - set(allowed))
            problems.append(f"config {where}: unknown key(s) {', '.join(map(repr, extra))}; allowed: {', '.join(allowed)}")
        else:
            problems.append(f"config key {where}: {err.message}")
    return problems


def check_config(config: dict, schema_path: str | Path) -> None:
    problems = config_problems(config, schema_path)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
