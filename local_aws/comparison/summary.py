"""The answer in short, from a report: at most eight rows for a 24-hour migration, and a one-line recommendation.

The README quotes ``summary_markdown(docs/comparison/report.json)`` between its ``summary`` markers, and a test
regenerates it from the committed report, so the README's numbers cannot drift from the report they come from.
``make compare`` prints the recommendation under its table.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

SUMMARY_DURATION_SECONDS = 86_400
# (variant, what the reader calls it); progress-aware polling is summarised over its profiles (median).
SUMMARY_VARIANTS: tuple[tuple[str, str], ...] = (
    ("callback-event", "callback, completed by DMS's event"),
    ("third-party-callback", "callback URL called by a third party"),
    ("callback-lost-event", "callback whose event is lost (84 h safety net)"),
    ("polling-progress", "polling, progress-aware (median of profiles)"),
    ("polling-default", "polling, 30 s doubling to a 5 min cap"),
    ("polling-fixed-1m", "polling every minute"),
    ("sfn-wait-for-task-token", "Step Functions .waitForTaskToken (modelled)"),
    ("sfn-poll-loop-default", "Step Functions poll loop (modelled)"),
)


@dataclass(frozen=True)
class SummaryRow:
    label: str
    invocations: float
    durable_operations: float
    detection_lag_seconds: float | None
    cost_usd: float


def summary_duration(report: dict[str, Any]) -> float | None:
    """24 hours when the report measured it; otherwise the longest successful migration it measured."""
    durations = {run["duration_seconds"] for run in report["runs"] if run["scenario"] == "success"}
    if SUMMARY_DURATION_SECONDS in durations:
        return SUMMARY_DURATION_SECONDS
    return max(durations) if durations else None


def _day_runs(report: dict[str, Any], variant: str) -> list[dict[str, Any]]:
    duration = summary_duration(report)
    return [
        run
        for run in report["runs"]
        if run["variant"] == variant and run["scenario"] == "success" and run["duration_seconds"] == duration
    ]


def summary_rows(report: dict[str, Any]) -> list[SummaryRow]:
    """One row per summarised variant the report measured at 24 hours (medians over progress profiles)."""
    rows = []
    for variant, label in SUMMARY_VARIANTS:
        runs = _day_runs(report, variant)
        if not runs:
            continue
        lags = [r["detection_lag_seconds"] for r in runs if r["detection_lag_seconds"] is not None]
        rows.append(
            SummaryRow(
                label=label,
                invocations=median(r["invocations"] for r in runs),
                durable_operations=median(r["durable_operations"] for r in runs),
                detection_lag_seconds=median(lags) if lags else None,
                cost_usd=median(r["cost_per_execution_usd"] for r in runs),
            )
        )
    return rows


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _lag(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 1:
        return "< 1 s"
    return f"{seconds:,.0f} s" if seconds < 3600 else f"{seconds / 3600:,.1f} h"


def summary_markdown(report: dict[str, Any]) -> str:
    lines = [
        "| how the execution waits (24 h migration) | invocations | durable operations | detection lag "
        "| cost per wait |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in summary_rows(report):
        lines.append(
            f"| {row.label} | {_number(row.invocations)} | {_number(row.durable_operations)} | "
            f"{_lag(row.detection_lag_seconds)} | ${row.cost_usd:.6f} |"
        )
    return "\n".join(lines)


def recommendation(report: dict[str, Any]) -> str:
    """One line from the measured numbers: wait for the event when there is one; otherwise poll with progress."""
    by_variant = {_variant_of(row.label): row for row in summary_rows(report)}
    callback, default, progress = (by_variant.get(v) for v in ("callback-event", "polling-default", "polling-progress"))
    if callback is None or default is None:
        return "Recommendation: include callback-event and polling-default in --variants to compare them."
    text = (
        f"Recommendation: wait for the event (callback): ${callback.cost_usd:.6f} and "
        f"{_number(callback.invocations)} invocations per {_hours(summary_duration(report))} wait, against "
        f"${default.cost_usd:.6f} and "
        f"{_number(default.invocations)} for default polling"
    )
    if progress is not None:
        text += (
            f"; with no event to wait for, poll progress-aware (${progress.cost_usd:.6f}, "
            f"median lag {_lag(progress.detection_lag_seconds)})"
        )
    return text + "."


def _hours(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds / 3600:g} h"


def _variant_of(label: str) -> str:
    return next(variant for variant, text in SUMMARY_VARIANTS if text == label)


BEGIN_MARKER = "<!-- summary:begin"
END_MARKER = "<!-- summary:end -->"


def fill_readme(readme: str, report: dict[str, Any]) -> str:
    """``readme`` with the block between the summary markers replaced by the report's summary table."""
    start = readme.index(BEGIN_MARKER)
    start = readme.index("\n", start) + 1
    end = readme.index(END_MARKER)
    return readme[:start] + summary_markdown(report) + "\n" + readme[end:]


def readme_summary(readme: str) -> str:
    """The summary table the README quotes now."""
    start = readme.index("\n", readme.index(BEGIN_MARKER)) + 1
    return readme[start : readme.index(END_MARKER)].strip("\n")


def main() -> int:
    """Refill README.md's summary from docs/comparison/report.json, after ``make compare`` wrote it there."""
    import json  # noqa: PLC0415 - only the command line reads files
    from pathlib import Path  # noqa: PLC0415

    root = Path(__file__).resolve().parents[2]
    readme = root / "README.md"
    report = json.loads((root / "docs" / "comparison" / "report.json").read_text())
    readme.write_text(fill_readme(readme.read_text(), report))
    print(f"refilled {readme.name}'s summary from docs/comparison/report.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
