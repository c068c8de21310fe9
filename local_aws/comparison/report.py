"""The comparison's outputs: report.json (a stable interface), report.md, the terminal table and the PNG charts.

report.json, version 1 (keys are only ever added):
{"report_version": 1, "generated_at", "matrix_wall_seconds", "jobs", "task_duration_offset_fraction",
 "operations_per_execution_limit",
 "runs": [{"variant", "label", "kind", "modelled", "scenario", "duration_seconds", "task_seconds", "outcome",
           "execution_status", "invocations", "history_events", "durable_operations", "durable_operations_parts",
           "checkpointed_updates", "bytes_written", "polls", "callback_waits", "safety_net_checks",
           "events_delivered", "dms_calls", "dynamodb_write_units", "dynamodb_read_units", "aws_calls",
           "completer_invocations", "eventbridge_events", "state_transitions", "execution_seconds",
           "detection_lag_seconds", "wall_seconds", "exceeds_operation_limit", "function", "completer_function",
           "memory_mb", "architecture", "cost_per_execution_usd", "cost_per_million_executions_usd",
           "cost_breakdown_usd": {component: usd}, "notes", "max_wait_seconds", "profile"}],
 "self_checks": [{"name", "passed", "detail"}],
 "prices": {"file", "region", "currency", "prices": {name: {"usd", "unit", "source", "read_on", ...}},
            "assumptions": {name: {"value", "why"}}}}

A run's ``profile`` is how its task's FullLoadProgressPercent moved (local_aws/progress_profiles.py): "linear"
for every variant but the one whose schedule reads it. Charts: cost and invocations against the duration (linear
progress), and detection lag against cost for the 24-hour migration (the longest one when the matrix has no
24-hour migration), one point per variant and profile.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_aws.comparison.cost import COMPONENTS, PricedRun
from local_aws.comparison.matrix import ComparisonResult
from local_aws.comparison.measure import TASK_DURATION_OFFSET_FRACTION
from local_aws.comparison.operations import OPERATIONS_PER_EXECUTION_LIMIT
from local_aws.comparison.prices import PriceList

REPORT_VERSION = 1
REPOSITORY = Path(__file__).resolve().parents[2]
COST_CHART = "cost_per_execution.png"
INVOCATIONS_CHART = "invocations.png"
LAG_COST_CHART = "lag_vs_cost.png"
LAG_COST_DURATION_SECONDS = 24 * 3600
LINEAR_PROFILE = "linear"


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0 and (unit != "d" or seconds >= 3 * 86400):
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def run_record(priced: PricedRun, result: ComparisonResult) -> dict[str, Any]:
    record = asdict(priced.run)
    record.pop("store_operations")
    record["exceeds_operation_limit"] = priced.run.exceeds_operation_limit
    function = result.functions.get(priced.run.function or "") or result.functions.get("Globals")
    record["memory_mb"] = function.memory_mb if function else None
    record["architecture"] = function.architecture if function else None
    record["cost_per_execution_usd"] = priced.cost_per_execution
    record["cost_per_million_executions_usd"] = priced.cost_per_million_executions
    record["cost_breakdown_usd"] = {name: priced.breakdown[name] for name in COMPONENTS}
    return record


def _display_path(path: str) -> str:
    """The price file relative to the repository when it is inside it (the committed report is machine-neutral)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPOSITORY)) if resolved.is_relative_to(REPOSITORY) else str(path)


def build_report(result: ComparisonResult, prices: PriceList) -> dict[str, Any]:
    return {
        "report_version": REPORT_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "matrix_wall_seconds": round(result.wall_seconds, 2),
        "jobs": result.jobs,
        "task_duration_offset_fraction": TASK_DURATION_OFFSET_FRACTION,
        "operations_per_execution_limit": OPERATIONS_PER_EXECUTION_LIMIT,
        "runs": [run_record(p, result) for p in result.priced],
        "self_checks": [asdict(c) for c in result.checks],
        "prices": {
            "file": _display_path(prices.path),
            "region": prices.raw.get("region"),
            "currency": prices.raw.get("currency"),
            "prices": prices.raw["prices"],
            "assumptions": prices.raw.get("assumptions", {}),
        },
    }


def _usd(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 1:
        return f"{value:,.2f}"
    return f"{value:.6f}" if value >= 1e-6 else f"{value:.2e}"


def _lag(seconds: float) -> str:
    if seconds < 1:
        return "< 1 s"
    if seconds < 600:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _flags(run: dict[str, Any]) -> str:
    flags = []
    if run["modelled"]:
        flags.append("modelled")
    if run["exceeds_operation_limit"]:
        flags.append(f"> {OPERATIONS_PER_EXECUTION_LIMIT:,} ops: fails on AWS")
    if run["scenario"] == "failure":
        flags.append("task fails")
    if _gives_up(run):
        flags.append(f"gives up at MAX_WAIT_SECONDS ({format_duration(run['max_wait_seconds'])})")
    return ", ".join(flags)


def _migration(run: dict[str, Any]) -> str:
    """The duration, and the progress profile when it is not linear."""
    duration = format_duration(run["duration_seconds"])
    profile = run.get("profile", LINEAR_PROFILE)
    return duration if profile == LINEAR_PROFILE else f"{duration} {profile}"


def _gives_up(run: dict[str, Any]) -> bool:
    limit = run.get("max_wait_seconds")
    return bool(limit) and run["task_seconds"] > limit


TABLE_HEADERS = (
    "variant",
    "migration",
    "outcome",
    "invocations",
    "durable ops",
    "transitions",
    "written KB",
    "DMS calls",
    "DDB W/R units",
    "detection lag",
    "$ / execution",
    "$ / 1M executions",
    "wall (s)",
    "notes",
)


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for run in report["runs"]:
        rows.append(
            [
                run["variant"],
                _migration(run),
                run["outcome"],
                str(run["invocations"]),
                str(run["durable_operations"]),
                str(run["state_transitions"]),
                f"{run['bytes_written'] / 1024:.1f}",
                str(sum(run["dms_calls"].values())),
                f"{run['dynamodb_write_units']:g}/{run['dynamodb_read_units']:g}",
                "never" if _gives_up(run) else _lag(run["detection_lag_seconds"]),
                _usd(run["cost_per_execution_usd"]),
                _usd(run["cost_per_million_executions_usd"]),
                "-" if run["modelled"] else f"{run['wall_seconds']:.2f}",
                _flags(run),
            ]
        )
    return rows


# The terminal table's columns (the full set with --wide, and in report.md): what a reader chooses on.
NARROW_COLUMNS = ("variant", "migration", "outcome", "invocations", "durable ops", "detection lag", "$ / execution")
_NUMERIC = frozenset(TABLE_HEADERS[3:13])


def render_table(report: dict[str, Any], wide: bool = False) -> str:
    """The runs as a terminal table: the narrow columns, or every column with ``wide``."""
    columns = list(TABLE_HEADERS) if wide else [*NARROW_COLUMNS, "notes"]
    picked = [TABLE_HEADERS.index(c) for c in columns]
    rows = [[row[i] for i in picked] for row in table_rows(report)]
    if not wide:
        rows = [[*row[:-1], _short_note(row[-1])] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(columns)]

    def line(cells: list[str] | tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if columns[i] in _NUMERIC else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(r) for r in rows)]).rstrip()


def _short_note(note: str) -> str:
    return note if len(note) <= 32 else note[:31] + "…"


def render_heading(report: dict[str, Any]) -> str:
    """What the table is: a local simulation, not AWS; priced at which region's list prices, read when."""
    prices = report["prices"]
    read_on = sorted({price.get("read_on", "") for price in prices.get("prices", {}).values()} - {""})
    when = f", read {read_on[-1]}" if read_on else ""
    measured = sum(1 for run in report["runs"] if not run["modelled"])
    return (
        "A local simulation, no AWS account used: the real handlers on the durable SDK's local runner,\n"
        f"simulated DMS, moto. {measured} measured rows, {len(report['runs']) - measured} modelled (Step Functions).\n"
        f"Costs at {prices['region']} on-demand list prices ({prices['currency']}{when}), free tiers ignored.\n"
        "invocations: Lambda invocations, every replay is one. durable ops: durable operations billed.\n"
        "detection lag: from the task's stop to the execution seeing it. modelled: computed from a measured twin."
    )


def render_markdown(report: dict[str, Any]) -> str:
    align = ["---", "---", "---", *(["---:"] * 10), "---"]
    lines = [
        "# Comparison: measured from local executions of the real handlers",
        "",
        f"Generated {report['generated_at']}; matrix wall time {report['matrix_wall_seconds']:.1f} s "
        f"({report['jobs']} worker process(es)). Prices: {report['prices']['region']}, {report['prices']['currency']}.",
        "",
        "| " + " | ".join(TABLE_HEADERS) + " |",
        "|" + "|".join(align) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
    lines += ["", f"![Cost per execution]({COST_CHART})", "", f"![Invocations]({INVOCATIONS_CHART})"]
    lines += ["", f"![Detection lag against cost of one wait]({LAG_COST_CHART})"]
    lines += ["", "## Cost breakdown per execution (USD)", ""]
    components = list(report["runs"][0]["cost_breakdown_usd"]) if report["runs"] else []
    lines.append("| variant | migration | " + " | ".join(components) + " |")
    lines.append("|---|---|" + "|".join("---:" for _ in components) + "|")
    for run in report["runs"]:
        cells = [_usd(run["cost_breakdown_usd"][c]) for c in components]
        lines.append(f"| {run['variant']} | {_migration(run)} | " + " | ".join(cells) + " |")
    lines += ["", "## Self-checks", ""]
    lines += [f"- {'PASS' if c['passed'] else 'FAIL'} {c['name']}: {c['detail']}" for c in report["self_checks"]]
    lines += ["", "## Prices", "", "| price | USD | unit | source | read on |", "|---|---:|---|---|---|"]
    for name, price in report["prices"]["prices"].items():
        lines.append(
            f"| {name} | {price['usd']:g} | {price.get('unit', '')} | {price['source']} | {price['read_on']} |"
        )
    lines += ["", "| assumption | value | why |", "|---|---:|---|"]
    for name, assumption in report["prices"]["assumptions"].items():
        lines.append(f"| {name} | {assumption['value']:g} | {assumption.get('why', '')} |")
    return "\n".join(lines) + "\n"


# Each series' sideways offset on the duration axis, per variant (log scale: 5 % per step).
DODGE_FACTOR = 1.05


def _did_not_finish(run: dict[str, Any]) -> bool:
    return run["outcome"] != "succeeded" or _gives_up(run)


def write_charts(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Cost per execution and invocations against migration duration, one line per variant, log scales (linear
    progress); then detection lag against cost at 24 hours."""
    import matplotlib  # noqa: PLC0415 - heavy, and only needed with --out

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    success = [
        r for r in report["runs"] if r["scenario"] == "success" and r.get("profile", LINEAR_PROFILE) == LINEAR_PROFILE
    ]
    variants = list(dict.fromkeys(r["variant"] for r in success))
    paths = []
    markers = "osD^vP*Xh<>"
    for filename, key, ylabel, title, with_modelled in (
        (
            COST_CHART,
            "cost_per_execution_usd",
            "USD per execution (log)",
            "Cost of one wait, by migration duration",
            True,
        ),
        (INVOCATIONS_CHART, "invocations", "invocations (log)", "Invocations of the waiting durable function", False),
    ):
        figure, axes = plt.subplots(figsize=(9, 5.5))
        failed_labelled = False
        for index, variant in enumerate(variants):
            runs = sorted((r for r in success if r["variant"] == variant), key=lambda r: r["duration_seconds"])
            if runs[0]["modelled"] and not with_modelled:
                continue
            # Series that share values (four variants sit on 2 invocations) are dodged sideways, each with its own
            # marker, so every one stays visible; the offset is a few percent on the log axis.
            dodge = DODGE_FACTOR ** (index - (len(variants) - 1) / 2)
            points = [(r["duration_seconds"] / 3600 * dodge, r[key], _did_not_finish(r)) for r in runs if r[key] > 0]
            if not points:
                continue
            modelled = runs[0]["modelled"]
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                linestyle="--" if modelled else "-",
                marker=markers[index % len(markers)],
                label=f"{variant}{' (modelled)' if modelled else ''}",
            )
            failed = [p for p in points if p[2]]
            if failed:
                axes.scatter(
                    [p[0] for p in failed],
                    [p[1] for p in failed],
                    s=160,
                    facecolors="none",
                    edgecolors="red",
                    linewidths=2,
                    zorder=5,
                    label=None if failed_labelled else "gave up or failed (not a finished wait)",
                )
                failed_labelled = True
        axes.set_xscale("log")
        axes.set_yscale("log")
        durations = sorted({r["duration_seconds"] for r in success})
        axes.set_xticks([d / 3600 for d in durations], [format_duration(d) for d in durations])
        axes.minorticks_off()
        axes.set_xlabel("migration duration (log scale)")
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        axes.grid(visible=True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        path = out_dir / filename
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths.append(path)
    lag_cost = write_lag_cost_chart(report, out_dir)
    return [*paths, lag_cost] if lag_cost is not None else paths


def _free_spot(x: float, y: float, occupied: set[tuple[float, float]]) -> float:
    """``x``, moved right in small steps until no earlier point sits on the same spot (log axes): none is hidden."""
    while (cell := (round(math.log10(x), 1), round(math.log10(y), 1))) in occupied:
        x *= 1.3
    occupied.add(cell)
    return x


def write_lag_cost_chart(report: dict[str, Any], out_dir: Path) -> Path | None:
    """Detection lag against cost per wait for the 24-hour migration: one point per variant and progress profile.

    The longest migration stands in when the matrix has no 24-hour one. Log scales; a lag under a second is drawn
    at one second. Runs that give up (no lag) are marked at the right edge. None when no migration succeeded.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415 - heavy, and only needed with --out

    durations = {r["duration_seconds"] for r in report["runs"] if r["scenario"] == "success"}
    if not durations:
        return None
    duration = LAG_COST_DURATION_SECONDS if LAG_COST_DURATION_SECONDS in durations else max(durations)
    at_duration = [r for r in report["runs"] if r["scenario"] == "success" and r["duration_seconds"] == duration]
    runs = [r for r in at_duration if not _gives_up(r)]
    gave_up = [r for r in at_duration if _gives_up(r)]
    figure, axes = plt.subplots(figsize=(9.5, 6))
    markers = "osD^vP*Xh<>"
    variants = list(dict.fromkeys(r["variant"] for r in runs))
    occupied: set[tuple[float, float]] = set()
    placed: dict[int, float] = {}
    for run in runs:
        placed[id(run)] = _free_spot(max(run["detection_lag_seconds"], 1.0), run["cost_per_execution_usd"], occupied)
    for index, variant in enumerate(variants):
        points = [r for r in runs if r["variant"] == variant]
        modelled = points[0]["modelled"]
        color = f"C{index % 10}"
        axes.scatter(
            [placed[id(r)] for r in points],
            [r["cost_per_execution_usd"] for r in points],
            marker=markers[index % len(markers)],
            facecolors="none" if modelled else color,
            edgecolors=color,
            label=f"{variant}{' (modelled)' if modelled else ''}",
        )
        for run in points:
            profile = run.get("profile", LINEAR_PROFILE)
            if len(points) > 1:
                axes.annotate(
                    profile,
                    (placed[id(run)], run["cost_per_execution_usd"]),
                    textcoords="offset points",
                    xytext=(5, 3),
                    fontsize=7,
                )
    if gave_up:
        # No lag to draw: they never saw the end. Marked at the right edge, so the cost of giving up still shows.
        edge = 2 * max((max(r["detection_lag_seconds"], 1.0) for r in runs), default=1.0)
        axes.scatter(
            [edge] * len(gave_up),
            [r["cost_per_execution_usd"] for r in gave_up],
            marker="X",
            s=90,
            color="red",
            label="gave up at MAX_WAIT_SECONDS (never saw the end)",
        )
        for run in gave_up:
            axes.annotate(
                run["variant"],
                (edge, run["cost_per_execution_usd"]),
                xytext=(-5, 5),
                fontsize=7,
                textcoords="offset points",
                ha="right",
            )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(
        "detection lag, seconds (log; under 1 s drawn at 1 s; points on one spot moved right to stay visible)"
    )
    axes.set_ylabel("USD per execution (log)")
    axes.set_title(f"{format_duration(duration)} migration: detection lag against cost of one wait")
    axes.grid(visible=True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path = out_dir / LAG_COST_CHART
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_outputs(report: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path = out_dir / "report.md"
    md_path.write_text(render_markdown(report))
    return [json_path, md_path, *write_charts(report, out_dir)]
