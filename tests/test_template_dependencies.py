"""The template, once SAM has transformed it, has no circular dependency between resources.

cfn-lint (1.x) checks the SAM template without running SAM's transform, and ``sam validate`` does not look for
cycles, so a cycle through resources SAM generates (a function's role, version, alias or URL) would first show up
at deploy time. Example: ThirdPartyJobFunction reads CallbackApiFunction's URL, so CallbackApiFunction's role may
not name ThirdPartyJobFunction inline (the URL needs the alias, the version, the function and its role). This test
transforms the template with SAM's own translator (SAM CLI's environment, ``.venv-sam``) and walks the references.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.sam_template import ROOT, TEMPLATE

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"

_PROBE = r"""
import json, re, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1]).read())
template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://bucket/key"  # as after sam package
for parameter in template.get("Parameters", {}).values():
    parameter.setdefault("Default", "https://placeholder.example" if parameter.get("Type") == "String" else 1)
resources = transform(template, {}, NoManagedPolicies())["Resources"]

def references(node):
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(re.findall(r"\$\{([A-Za-z0-9]+)", text))
                if isinstance(value, list):
                    found |= references(value[1])
            else:
                found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found

graph = {}
for name, resource in resources.items():
    depends = resource.get("DependsOn", [])
    targets = references(resource.get("Properties", {})) | set(depends if isinstance(depends, list) else [depends])
    graph[name] = sorted(t for t in targets if t in resources)

cycles, state = [], {}
def visit(name, path):
    state[name] = "open"
    for target in graph[name]:
        if state.get(target) == "open":
            cycles.append(path[path.index(target):] + [target] if target in path else [name, target])
        elif target not in state:
            visit(target, path + [target])
    state[name] = "done"

for name in graph:
    if name not in state:
        visit(name, [name])
print(json.dumps({"resources": len(resources), "cycles": cycles}))
"""


def test_the_transformed_template_has_no_circular_dependency() -> None:
    if not SAM_PYTHON.is_file():
        pytest.skip(f"no SAM CLI environment at {SAM_PYTHON.parent.parent}: run `make template` to create it")

    completed = subprocess.run(  # noqa: S603 -- SAM CLI's own interpreter, a fixed probe, our own template
        [str(SAM_PYTHON), "-c", _PROBE, str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "LANG": "C.UTF-8"},
        cwd=Path(ROOT),
    )

    assert completed.returncode == 0, f"SAM's translator failed on template.yaml:\n{completed.stderr[-3000:]}"
    probe = json.loads(completed.stdout.strip().splitlines()[-1])
    assert probe["resources"] > 0
    assert not probe["cycles"], f"circular dependencies after SAM's transform: {probe['cycles']}"
