"""What the cost model needs from template.yaml: each function's memory, architecture and durable retention."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# AWS's defaults when a template sets nothing (SAM and Lambda, and DurableConfig's retention).
_DEFAULT_MEMORY_MB = 128
_DEFAULT_ARCHITECTURE = "x86_64"
_DEFAULT_RETENTION_DAYS = 14


class TemplateError(ValueError):
    """The template lacks a function the comparison prices, or a setting it needs."""


@dataclass(frozen=True)
class FunctionConfig:
    resource: str
    memory_mb: int
    architecture: str
    retention_days: int | None  # durable functions only

    @property
    def memory_gb(self) -> float:
        return self.memory_mb / 1024


def _intrinsic(loader: Any, _suffix: str, node: Any) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return None  # pragma: no cover - YAML has no other node kind


# A SafeLoader that reads intrinsic functions (!Ref, !Sub, !GetAtt, ...) as plain values.
_CloudFormationLoader: Any = type("_CloudFormationLoader", (yaml.SafeLoader,), {})
_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_function_configs(template: Path = TEMPLATE) -> dict[str, FunctionConfig]:
    """Every AWS::Serverless::Function in the template, with Globals applied, plus "Globals" itself."""
    document = yaml.load(template.read_text(), Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    defaults = (document.get("Globals") or {}).get("Function") or {}
    configs: dict[str, FunctionConfig] = {"Globals": _config("Globals", defaults)}
    for name, resource in (document.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        configs[name] = _config(name, {**defaults, **(resource.get("Properties") or {})})
    return configs


def _config(name: str, properties: dict[str, Any]) -> FunctionConfig:
    architectures = properties.get("Architectures") or [_DEFAULT_ARCHITECTURE]
    durable = properties.get("DurableConfig")
    return FunctionConfig(
        resource=name,
        memory_mb=int(properties.get("MemorySize", _DEFAULT_MEMORY_MB)),
        architecture=str(architectures[0]),
        retention_days=int(durable.get("RetentionPeriodInDays", _DEFAULT_RETENTION_DAYS)) if durable else None,
    )


def function_config(configs: dict[str, FunctionConfig], resource: str) -> FunctionConfig:
    try:
        return configs[resource]
    except KeyError:
        raise TemplateError(
            f"template.yaml has no function {resource!r} (it has: {', '.join(sorted(configs)) or 'none'})"
        ) from None
