"""The example's SAM template: cfn-lint passes, every Handler names an entry module, IAM grants what the code calls."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode

EXAMPLE = Path(__file__).resolve().parent.parent
TEMPLATE = EXAMPLE / "template.yaml"


def _template() -> dict[str, Any]:
    template, matches = decode(str(TEMPLATE))
    assert template is not None, matches
    return dict(template)


def _functions() -> dict[str, dict[str, Any]]:
    resources = _template()["Resources"]
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def _glue_calls(module: str) -> set[str]:
    """The Glue operations the example's code calls (work.py names them to its ``_call``)."""
    tree = ast.parse((EXAMPLE / f"{module}.py").read_text())
    return {
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_call"
        and isinstance(node.args[1], ast.Constant)
    }


def test_cfn_lint_finds_nothing() -> None:
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1"]))

    assert [str(match) for match in matches] == []


@pytest.mark.parametrize("name", sorted(_functions()))
def test_each_handler_names_an_entry_module_with_a_handler(name: str) -> None:
    module, _, attribute = _functions()[name]["Handler"].rpartition(".")

    assert callable(getattr(importlib.import_module(module), attribute, None)), f"{name}: no {attribute} in {module}"


def test_the_functions_may_make_the_glue_calls_the_code_makes() -> None:
    actions = {"start_job_run": "glue:StartJobRun", "get_job_runs": "glue:GetJobRuns"}
    called = {actions[operation] for operation in _glue_calls("work")}
    granted = {
        name: {
            action
            for policy in properties["Policies"]
            for statement in policy.get("Statement", [])
            for action in statement["Action"]
            if action.startswith("glue:")
        }
        for name, properties in _functions().items()
    }

    assert called == {"glue:StartJobRun", "glue:GetJobRuns"}, "work.py's Glue calls changed: update this test"
    assert granted["GluePollingFunction"] == called
    assert granted["GlueCallbackFunction"] == called
    assert granted["GlueEventsFunction"] == {"glue:GetJobRuns"}, "the completer only reads"
