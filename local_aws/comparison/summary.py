"""The answer in short, from a report: at most eight rows for a 24-hour migration, and a one-line recommendation.

The README quotes ``summary_markdown(docs/comparison/report.json)`` between its ``summary`` markers, and
``speed_markdown`` (the report and docs/benchmarks/polling.json) between its ``speed`` markers; a test regenerates
both from the committed files, so the README's numbers cannot drift from the outputs they come from.
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


SPEED_BEGIN_MARKER = "<!-- speed:begin"
SPEED_END_MARKER = "<!-- speed:end -->"


def speed_markdown(report: dict[str, Any], benchmark: dict[str, Any]) -> str:
    """How fast the local runs are: the matrix's wall time (report.json) and the 1-minute polling run's, part by part
    (the polling benchmark's JSON)."""
    measured = sum(1 for run in report["runs"] if not run.get("modelled"))
    one_minute = benchmark["one_minute_polling"]
    per = {part["key"]: part["ms_per_invocation"] for part in one_minute["parts"]}
    total_ms = 1000 * one_minute["run_seconds"] / one_minute["invocations"]
    repeats = one_minute.get("repeats", 1)
    median = f" (the median of {repeats} runs)" if repeats > 1 else ""
    return "\n".join(
        [
            f"- `make compare`: {len(report['runs'])} rows ({measured} measured executions) in "
            f"{report['matrix_wall_seconds']:.1f} s on {report['jobs']} worker processes.",
            f"- 24 h of polling every minute: {one_minute['invocations']:,} invocations in "
            f"{one_minute['run_seconds']:.1f} s{median}, {total_ms:.1f} ms each: the SDK's local runner "
            f"{per['runner']:.1f} ms, the durable SDK in the handler and our code {per['sdk_and_our_code']:.1f} ms, "
            f"the telemetry plugin {per['telemetry_plugin']:.1f} ms, the DMS call through botocore "
            f"{per['dms_call']:.1f} ms (`make benchmark`).",
        ]
    )


def _fill(readme: str, begin: str, end: str, block: str) -> str:
    start = readme.index("\n", readme.index(begin)) + 1
    return readme[:start] + block + "\n" + readme[readme.index(end) :]


def fill_readme_speed(readme: str, report: dict[str, Any], benchmark: dict[str, Any]) -> str:
    return _fill(readme, SPEED_BEGIN_MARKER, SPEED_END_MARKER, speed_markdown(report, benchmark))


def readme_speed(readme: str) -> str:
    """The speed lines the README quotes now."""
    start = readme.index("\n", readme.index(SPEED_BEGIN_MARKER)) + 1
    return readme[start : readme.index(SPEED_END_MARKER)].strip("\n")


def main() -> int:
    """Refill README.md's summary and speed lines from docs/comparison/report.json and
    docs/benchmarks/polling.json, after ``make docs`` wrote them."""
    import json  # noqa: PLC0415 - only the command line reads files
    from pathlib import Path  # noqa: PLC0415

    root = Path(__file__).resolve().parents[2]
    readme = root / "README.md"
    report = json.loads((root / "docs" / "comparison" / "report.json").read_text())
    benchmark = json.loads((root / "docs" / "benchmarks" / "polling.json").read_text())
    text = fill_readme(readme.read_text(), report)
    readme.write_text(fill_readme_speed(text, report, benchmark))
    print(f"refilled {readme.name}'s summary and speed lines from docs/comparison/report.json and polling.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
