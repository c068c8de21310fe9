"""Write docs/architecture.md from the code: every package and module with the first line of its docstring.

python -m scripts.architecture_doc          # rewrite docs/architecture.md
A test regenerates it and fails when the committed page differs, so the layout it describes cannot go stale.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
FOLDERS = ("handlers", "examples/glue_job_run", "local_aws", "scripts")
HEADER = """# How it is built

Generated from the code by `python -m scripts.architecture_doc` (a test fails when this page is stale): every package
and module, with the first line of its docstring. Dependencies point one way: entry modules -> `waiting/` (the core,
which knows no DMS) and `job_kinds/` (one folder per kind of work) -> `aws_adapters/`; `callback_api/` serves the
third party's signed callback. `local_aws/` and `scripts/` are never deployed.
"""


def _summary(path: Path) -> str:
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    return (docstring or "(no docstring)").strip().splitlines()[0]


def _modules(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*.py")
        if "tests" not in path.relative_to(folder).parts and "__pycache__" not in path.parts
    )


def render() -> str:
    lines = [HEADER]
    for name in FOLDERS:
        folder = ROOT / name
        lines += [f"## `{name}/`", "", "| module | what it is |", "|---|---|"]
        for path in _modules(folder):
            relative = path.relative_to(folder)
            shown = str(relative.parent) + "/" if path.name == "__init__.py" else str(relative)
            summary = _summary(path).replace("|", "\\|")
            lines.append(f"| `{shown}` | {summary} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    if argv:
        print("architecture_doc takes no arguments; it rewrites docs/architecture.md", file=sys.stderr)
        return 2
    PAGE.write_text(render())
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
