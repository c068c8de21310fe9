"""Every function's built artifact (.aws-sam/build/<Function>/, from `sam build`) imports with its own contents only.

Each handler module is imported by the runtime's Python (3.13) in a fresh, isolated interpreter (-I -S: no
site-packages, no user site, no PYTHON* variables) whose sys.path is the standard library plus the artifact. A
runtime dependency missing from handlers/requirements.txt fails here, not in a user's first invocation.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scripts.runtime_python import RuntimePythonNotFoundError, find_runtime_python
from tests.sam_template import HANDLERS, ROOT, functions, handler_module, load_template

BUILD = ROOT / ".aws-sam" / "build"
BUILT_TEMPLATE = BUILD / "template.yaml"
RUNTIME_VERSION = "3.13"
# `make test` builds right before pytest: that build is the snapshot under test, even if a file was edited since.
# Run alone, pytest skips an artifact that no longer matches handlers/ rather than vouch for old code.
JUST_BUILT = os.environ.get("MIGRATION_WAIT_ARTIFACT_JUST_BUILT") == "1"

_IMPORT_PROBE = """
import importlib, json, sys
artifact, module_name, attribute = sys.argv[1:4]
sys.path.insert(0, artifact)
module = importlib.import_module(module_name)
handler = getattr(module, attribute)
outside = sorted(
    name for name, loaded in sys.modules.items()
    if getattr(loaded, "__file__", None) and not loaded.__file__.startswith((artifact, sys.base_prefix))
)
print(json.dumps({"callable": callable(handler), "file": module.__file__, "outside": outside}))
"""


def _source_files() -> dict[str, bytes]:
    return {
        str(p.relative_to(HANDLERS)): p.read_bytes()
        for p in sorted(HANDLERS.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in {".py", ".txt"}
    }


def _stale_reason(function: str) -> str | None:
    artifact = BUILD / function
    if not artifact.is_dir():
        return f"{artifact} is missing"
    for relative, content in _source_files().items():
        built = artifact / relative
        if not built.is_file() or built.read_bytes() != content:
            return f"{artifact / relative} differs from handlers/{relative}"
    return None


def _runtime_python() -> Path:
    try:
        return find_runtime_python(RUNTIME_VERSION)
    except RuntimePythonNotFoundError as err:
        pytest.skip(f"no Python {RUNTIME_VERSION} (the functions' runtime) on this machine: {err}")


def _function_names() -> list[str]:
    return sorted(functions(load_template()))


@pytest.mark.parametrize("function", _function_names())
def test_the_handler_imports_from_its_built_artifact_alone(function: str) -> None:
    python = _runtime_python()
    if not BUILT_TEMPLATE.is_file():
        pytest.skip(f"no build at {BUILD}: run `make build` (sam build)")
    stale = None if JUST_BUILT else _stale_reason(function)
    if stale:
        pytest.skip(f"the built artifact is out of date ({stale}): run `make build`")
    handler = str(functions(load_template())[function]["Handler"])
    module, attribute = handler_module({"Handler": handler}), handler.rsplit(".", 1)[1]
    artifact = str(BUILD / function)

    completed = subprocess.run(  # noqa: S603 -- the runtime's interpreter, a fixed probe, our own artifact
        [str(python), "-I", "-S", "-c", _IMPORT_PROBE, artifact, module, attribute],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "LANG": "C.UTF-8"},
        cwd=artifact,
    )

    assert completed.returncode == 0, f"{function}: `import {module}` failed in its artifact:\n{completed.stderr}"
    probe: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    assert probe["callable"], f"{function}: {handler} is not callable"
    assert probe["file"].startswith(artifact), f"{function}: {module} was imported from {probe['file']}"
    assert not probe["outside"], f"{function}: modules loaded from outside the artifact: {probe['outside']}"
