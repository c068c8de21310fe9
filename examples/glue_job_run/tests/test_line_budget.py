"""The guide's line counts (docs/wait-on-your-own-job.md, "What it took") are the files' ``wc -l``, and the kind stays
within its budget: the numbers cannot go stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent
GUIDE = EXAMPLE.parent.parent / "docs" / "wait-on-your-own-job.md"
KIND = ("__init__.py", "rules.py", "work.py")
ENTRY_MODULES = ("polling_handler.py", "callback_handler.py", "events_handler.py")
BUDGET = 200
_FILE_ROW = re.compile(r"^\| `(?P<name>[a-z_]+\.(?:py|yaml))` \| (?P<lines>\d+) \|", re.MULTILINE)
_TOTAL_ROW = re.compile(r"^\| \*\*(?P<name>[a-z ]+)\*\* \| \*\*(?P<lines>\d+)\*\* \|", re.MULTILINE)


def _wc_l(name: str) -> int:
    return (EXAMPLE / name).read_bytes().count(b"\n")


def _stated() -> dict[str, int]:
    text = GUIDE.read_text()
    rows = [*_FILE_ROW.finditer(text), *_TOTAL_ROW.finditer(text)]
    return {match["name"]: int(match["lines"]) for match in rows}


def _production_files() -> list[str]:
    return sorted(path.name for path in EXAMPLE.iterdir() if path.suffix in {".py", ".yaml"})


def test_every_production_file_is_in_the_guides_table() -> None:
    assert sorted(set(_stated()) & set(_production_files())) == _production_files(), (
        "a file of the example is missing from the guide's table"
    )
    assert set(_production_files()) == {*KIND, *ENTRY_MODULES, "template.yaml"}, "update KIND or ENTRY_MODULES"


@pytest.mark.parametrize("name", [*KIND, *ENTRY_MODULES, "template.yaml"])
def test_the_guide_states_each_files_wc_l(name: str) -> None:
    assert _stated()[name] == _wc_l(name), f"{name} has {_wc_l(name)} lines; the guide says {_stated()[name]}"


def test_the_guide_states_the_totals() -> None:
    kind, entry = sum(map(_wc_l, KIND)), sum(map(_wc_l, ENTRY_MODULES))

    assert _stated()["the kind"] == kind
    assert _stated()["entry modules"] == entry
    assert _stated()["all python"] == kind + entry


def test_the_example_stays_within_its_budget() -> None:
    production = sum(map(_wc_l, (*KIND, *ENTRY_MODULES)))

    assert production <= BUDGET, f"the Glue example's production Python takes {production} lines, over {BUDGET}"
