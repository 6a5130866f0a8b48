"""`make bench`: run every measurement, print one table, write bench/results.json."""

from __future__ import annotations

import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import (
    burst,
    coalescing,
    coldstart,
    console,
    cost,
    e2e,
    ingest,
    model_cost,
    pr_context,
    prompts,
    worker,
)
from bench.bodies import pull_request
from hookwise.observability import logger
from hookwise.resources import QUEUES

RESULTS = Path(__file__).with_name("results.json")


def run() -> dict[str, Any]:
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "prompts": prompts.measure(),
        "pr_context": pr_context.measure(),
        "ingest": ingest.measure(),
        "cold_start": coldstart.measure(),
        "worker": worker.efficiency(),
        "bursts": burst.measure(),
        "end_to_end": e2e.measure(),
        "console": console.measure(),
    }
    footprints = cost.footprints()
    pr = pull_request().name
    measured = results["ingest"]["handler_ms"]
    ingest_seconds = cost.Duration(measured["median"] / 1000, measured["cpu_median"] / 1000)
    wk = results["worker"]
    # A batch of one waits on the model alone, as the records of the sequential run do.
    shapes = {
        shape: (
            cost.Duration(
                wk[f"lambda_seconds_per_event_{run}"], wk[f"cpu_seconds_per_event_{run}"]
            ),
            batch,
        )
        for shape, run, batch in (
            (cost.SHAPE_BURST, "concurrent", QUEUES.batch_size),
            (cost.SHAPE_ALONE, "sequential", 1),
        )
    }
    results["cost_per_million_usd"] = {
        shape: cost.per_million(ingest_seconds, seconds, footprints[shape][pr], batch)
        for shape, (seconds, batch) in shapes.items()
    }
    results["lambda_usd_by_worker_memory_mb"] = {
        shape: cost.lambda_by_worker_memory(ingest_seconds, seconds, batch)
        for shape, (seconds, batch) in shapes.items()
    }
    results["capacity_per_event"] = footprints
    results["model_cost_by_mode_per_million_usd"] = model_cost.measure()
    results["coalescing"] = coalescing.measure()
    results["wall_seconds"] = time.perf_counter() - started
    return results


def table(results: dict[str, Any]) -> Table:
    rows = Table(title="hookwise bench (ratios are against a baseline measured in this run)")
    rows.add_column("measurement")
    rows.add_column("hookwise", justify="right")
    rows.add_column("baseline", justify="right")
    rows.add_column("ratio", justify="right")
    pr = results["prompts"]
    for name, figure in pr.items():
        rows.add_row(
            f"prompt bytes, {name}",
            str(figure["prompt_bytes"]),
            f"{figure['whole_payload_bytes']} (whole payload)",
            f"{figure['ratio']:.3f}",
        )
    large = results["pr_context"]
    rows.add_row(
        f"prompt tokens, PR of {large['files']} files with its diff",
        f"{large['prompt_tokens']:,}",
        f"{large['naive_prompt_tokens']:,} (payload + every patch)",
        f"{large['ratio']:.3f}",
    )
    rows.add_row(
        "diff tokens in that prompt",
        f"{large['diff_tokens']:,} ({large['files_shown']} files)",
        f"{large['diff_token_budget']:,} (route budget)",
        f"{large['diff_over_budget']:.2f}",
    )
    rows.add_row(
        "prompt tokens, a one-file push to that PR (incremental)",
        f"{large['incremental_prompt_tokens']:,}",
        f"{large['prompt_tokens']:,} (whole diff)",
        f"{large['incremental_ratio']:.3f}",
    )
    for name, count in large["provider_calls"].items():
        rows.add_row(f"GitHub API calls, {name}", str(count), "", "")
    ing = results["ingest"]
    rows.add_row(
        "ingest ms, median",
        f"{ing['handler_ms']['median']:.1f}",
        f"{ing['floor_ms']['median']:.1f} (PutItem+SendMessage)",
        f"{ing['ratio_median']:.2f}",
    )
    rows.add_row(
        "ingest ms, p99",
        f"{ing['handler_ms']['p99']:.1f}",
        f"{ing['floor_ms']['p99']:.1f}",
        f"{ing['ratio_p99']:.2f}",
    )
    for name in ("ingest", "worker"):
        cold = results["cold_start"][name]
        rows.add_row(
            f"cold start s, {name}",
            f"{cold['handler_s']:.2f}",
            f"{cold['boto3_only_s']:.2f} (boto3 + clients)",
            f"{cold['ratio']:.2f}",
        )
    wk = results["worker"]
    rows.add_row(
        "Lambda s per event, batch of 10, 1 s model (warm)",
        f"{wk['lambda_seconds_per_event_concurrent']:.3f}",
        f"{wk['lambda_seconds_per_event_sequential']:.3f} (one at a time)",
        f"{wk['ratio']:.3f}",
    )
    rows.add_row(
        "  CPU s per event (the rest is waiting), batch of 10",
        f"{wk['cpu_seconds_per_event_concurrent']:.3f}",
        f"{wk['cpu_seconds_per_event_sequential']:.3f} (one at a time)",
        "",
    )
    rows.add_row(
        "  first batch of a fresh environment (SDK import)",
        f"{wk['first_batch_seconds_per_event']:.3f}",
        "",
        "",
    )
    for name, run in results["bursts"].items():
        rows.add_row(
            f"{name}: drain s ({run['completed']}/{run['events']} completed, "
            f"{run['dlq']} in DLQ, {run['calls_per_event']:.2f} calls/event)",
            f"{run['drain_seconds']:.1f}",
            f"{run['ideal_seconds']:.1f} (N/R)",
            f"{run['drain_over_ideal']:.2f}",
        )
        if "fairness" in run:
            fair = run["fairness"]
            rows.add_row(
                "fairness: Stripe p95 s after a GitHub flood",
                f"{fair['stripe_p95_seconds']:.1f}",
                f"{fair['github_drain_seconds']:.1f} (flood drain)",
                f"{fair['stripe_p95_over_github_drain']:.3f}",
            )
            rows.add_row(
                "fairness: Stripe p95 s over what the flood had left (FIFO: about 1)",
                f"{fair['stripe_p95_seconds']:.1f}",
                f"{fair['github_left_seconds']:.1f} (flood left)",
                f"{fair['stripe_p95_over_github_left']:.3f}",
            )
    ee = results["end_to_end"]
    rows.add_row(
        f"ack ms median at {ee['offered_per_second']:.0f}/s",
        f"{ee['stack']['ack_ms_median']:.1f}",
        f"{ee['trivial_handler']['ack_ms_median']:.1f} (trivial handler)",
        f"{ee['ack_ratio_median']:.1f}",
    )
    rows.add_row(
        "ack ms p99",
        f"{ee['stack']['ack_ms_p99']:.1f}",
        f"{ee['trivial_handler']['ack_ms_p99']:.1f}",
        f"{ee['ack_ratio_p99']:.1f}",
    )
    pages = results["console"]["pages"]
    rows.add_row(
        f"console Events page ms, median ({results['console']['events_in_table']:,} events, "
        f"target {results['console']['target_ms']:.0f})",
        f"{pages['events']['ms_median']:.0f}",
        f"{pages['events']['floor_ms_median']:.0f} (its Query + BatchGetItem)",
        f"{pages['events']['over_floor']:.2f}",
    )
    for name, label in (("events_failed", "status failed"), ("events_route", "one route")):
        rows.add_row(
            f"  filtered: {label}",
            f"{pages[name]['ms_median']:.0f}",
            f"{pages[name]['floor_ms_median']:.0f}",
            f"{pages[name]['over_floor']:.2f}",
        )
    for shape, footprints in results["capacity_per_event"].items():
        for name, footprint in footprints.items():
            writes = footprint["write_units"] + footprint["index_write_units"]
            rows.add_row(
                f"DynamoDB units per event, {shape}: {name} ({footprint['body_bytes']:,} B, "
                f"{footprint['status']})",
                f"{writes:.1f} write / {footprint['read_units']:.1f} read",
                f"S3 {footprint['s3_puts']:.1f} put / {footprint['s3_gets']:.1f} get, "
                f"{footprint['s3_stored_bytes']:,.0f} B",
                "",
            )
    burst, alone = (
        results["cost_per_million_usd"][s] for s in (cost.SHAPE_BURST, cost.SHAPE_ALONE)
    )
    for name, value in burst.items():
        rows.add_row(
            f"USD per million PR events: {name}", f"{value:.2f}", f"{alone[name]:.2f} (alone)", ""
        )
    by_memory = results["lambda_usd_by_worker_memory_mb"]
    for memory, usd in by_memory[cost.SHAPE_BURST].items():
        rows.add_row(
            f"Lambda USD per million PR events, worker at {memory} MB",
            f"{usd:.2f}",
            f"{by_memory[cost.SHAPE_ALONE][memory]:.2f} (alone)",
            "",
        )
    for name, modes in results["model_cost_by_mode_per_million_usd"].items():
        rows.add_row(
            f"model USD per million events, {name}: real time / cached / batch",
            f"{modes['realtime']:.0f} / {modes['realtime_cached']:.0f} / {modes['batch']:.0f}",
            "",
            f"{modes['batch'] / modes['realtime']:.2f}",
        )
    co = results["coalescing"]
    rows.add_row(
        "model calls / model USD per 1,000 PRs, push mix, coalescing (60 s quiet)",
        f"{co['model_calls_per_1000_prs']['with']:,.0f} / "
        f"{co['model_usd_per_1000_prs']['with']:.2f}",
        f"{co['model_calls_per_1000_prs']['without']:,.0f} / "
        f"{co['model_usd_per_1000_prs']['without']:.2f} (without)",
        f"{co['model_calls_per_1000_prs']['with'] / co['model_calls_per_1000_prs']['without']:.2f}",
    )
    for name, size in results["cold_start"]["sizes_bytes"].items():
        rows.add_row(f"package bytes: {name}", f"{size:,}", "", "")
    return rows


def main() -> None:
    # The handlers' INFO logs and Powertools' empty-flush warnings would bury the table; the
    # measurements do not need them.
    logger.setLevel("WARNING")
    warnings.filterwarnings("ignore", "No application metrics to publish")
    results = run()
    Console().print(table(results))
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS} in {results['wall_seconds']:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
