"""The README is short and quotes only generated numbers; every link in it and in docs/ leads somewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from local_aws.comparison.summary import readme_speed, readme_summary, speed_markdown, summary_markdown, summary_rows

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
REPORT = ROOT / "docs" / "comparison" / "report.json"
_LINK = re.compile(r"\]\((?!https?://|#)([^)#\s]+)")


def test_the_readme_is_at_most_200_lines() -> None:
    lines = README.read_text().count("\n")

    assert lines <= 200, f"README.md has {lines} lines; depth belongs in docs/"


def test_the_readme_summary_is_the_one_the_committed_report_gives() -> None:
    report = json.loads(REPORT.read_text())

    assert readme_summary(README.read_text()) == summary_markdown(report), (
        "README.md's summary is stale: refill it with `python -m local_aws.comparison.summary` after make compare"
    )


def test_the_readme_speed_lines_are_the_ones_the_committed_outputs_give() -> None:
    report = json.loads(REPORT.read_text())
    benchmark = json.loads((ROOT / "docs" / "benchmarks" / "polling.json").read_text())

    assert readme_speed(README.read_text()) == speed_markdown(report, benchmark), (
        "README.md's speed lines are stale: `make docs` refills them from report.json and polling.json"
    )


def test_the_summary_has_at_most_eight_rows() -> None:
    rows = summary_rows(json.loads(REPORT.read_text()))

    assert 1 <= len(rows) <= 8


@pytest.mark.parametrize("page", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    missing = [link for link in _LINK.findall(page.read_text()) if not (page.parent / link).exists()]

    assert not missing, f"{page.name} links to files that do not exist: {missing}"


def test_the_architecture_page_is_the_code_as_it_is() -> None:
    from scripts.architecture_doc import PAGE, render

    assert PAGE.read_text() == render(), "docs/architecture.md is stale: run python -m scripts.architecture_doc"


_TEST_REFERENCE = re.compile(r"`(?:tests/)?(test_[a-z0-9_]+\.py)::(test_[a-z0-9_]+)")


@pytest.mark.parametrize("page", sorted((ROOT / "docs").glob("*.md")), ids=lambda p: p.name)
def test_every_test_a_page_names_as_proof_exists(page: Path) -> None:
    missing = []
    for module, name in _TEST_REFERENCE.findall(page.read_text()):
        found = [path for path in ROOT.rglob(module) if ".venv" not in path.parts]
        if not any(re.search(rf"^def {name}\(", path.read_text(), re.MULTILINE) for path in found):
            missing.append(f"{module}::{name}")

    assert not missing, f"{page.name} names tests that do not exist: {missing}"
