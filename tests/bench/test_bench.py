"""The benchmark's arithmetic, and one small real measurement: a broken measurement fails."""

from __future__ import annotations

import boto3
import pytest

from bench import capacity, cost, prices, prompts
from bench.stats import NoSamples, median, percentile, ratio
from hookwise.adapters.batches.dynamodb import DynamoDBBatchLedger
from hookwise.adapters.subject_lock import DynamoDBSubjectLock
from hookwise.batches.ports import Parked
from hookwise.config import load_config
from hookwise.resources import BATCH_TABLE_SUFFIX
from tests.conftest import Aws


def test_percentiles_and_ratios_on_known_samples() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert median(samples) == 50.5
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 100) == 100.0
    assert ratio([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]) == 2.0


@pytest.mark.parametrize("broken", [[], [0.0, 0.0]])
def test_a_ratio_from_no_samples_or_a_zero_floor_raises(broken: list[float]) -> None:
    with pytest.raises(NoSamples):
        ratio([1.0], broken)
    with pytest.raises(NoSamples):
        median([])


PR = {
    "route": "github-pr-review",
    "log_bytes": 1024**3 // 1_000_000,
    "write_units": 8,
    "index_write_units": 1,
    "read_units": 4.0,
    "stored_bytes": 1024**3 // 1_000_000,
    "s3_puts": 0,
    "s3_gets": 0,
    "s3_stored_bytes": 0,
    "usage": {
        "input_tokens": 1000,
        "output_tokens": 100,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    },
}


@pytest.mark.parametrize("batch", [10, 1])
def test_cost_per_million_from_known_inputs(batch: int) -> None:
    # Measured on a whole core: the CPU part of each stretched to its memory's vCPU share.
    ingest, worker = cost.Duration(0.010, 0.002), cost.Duration(0.1, 0.02)
    figures = cost.per_million(ingest, worker, pr=PR, batch=batch, worker_memory_mb=1024)
    assert figures["api_gateway"] == pytest.approx(prices.HTTP_API_REQUEST * 1_000_000)
    assert figures["dynamodb_requests"] == pytest.approx(
        (9 * prices.DYNAMODB_WRITE_UNIT + 4 * prices.DYNAMODB_READ_UNIT) * 1_000_000
    )
    # A GB per million events, kept a month.
    assert figures["dynamodb_storage"] == pytest.approx(prices.DYNAMODB_GB_MONTH, rel=1e-3)
    assert figures["s3"] == 0
    # 1000 input and 100 output tokens at the default model's prices ($3 and $15 per million).
    assert figures["model_tokens"] == pytest.approx((1000 * 3 + 100 * 15) / 1_000_000 * 1_000_000)
    lambda_gb_s = (0.010 + 0.002 * (1769 / 512 - 1)) * 0.5 + (0.1 + 0.02 * (1769 / 1024 - 1))
    # An ingest invocation per event, a worker one per batch; SQS: a send per event, a
    # receive and a delete per batch.
    assert figures["lambda"] == pytest.approx(
        ((1 + 1 / batch) * prices.LAMBDA_REQUEST + lambda_gb_s * prices.LAMBDA_GB_SECOND_ARM)
        * 1_000_000
    )
    assert figures["sqs"] == pytest.approx((1 + 2 / batch) * prices.SQS_REQUEST * 1_000_000)
    # The shipped PR route comments on the PR and publishes nothing to the bus.
    assert figures["eventbridge"] == 0
    aws = [v for k, v in figures.items() if k not in ("aws_total", "model_tokens")]
    assert figures["aws_total"] == pytest.approx(sum(aws))
    publishing = cost.per_million(ingest, worker, {**PR, "route": "stripe-payments"}, batch)
    assert publishing["eventbridge"] == pytest.approx(prices.EVENTBRIDGE_EVENT * 1_000_000)


def test_cpu_time_stretches_below_a_vcpu_and_not_above() -> None:
    measured = cost.Duration(wall=1.0, cpu=0.2)
    assert measured.at(1769) == pytest.approx(1.0)
    assert measured.at(3538) == pytest.approx(1.0)
    assert measured.at(1769 // 4) == pytest.approx(1.0 + 0.2 * 3, rel=1e-3)
    # A worker that mostly waits costs less with less memory; one that mostly computes, not.
    waiting = cost.lambda_by_worker_memory(cost.Duration(0, 0), measured, 10)
    assert waiting["512"] < waiting["1024"] < waiting["1769"]
    busy = cost.lambda_by_worker_memory(cost.Duration(0, 0), cost.Duration(1.0, 1.0), 10)
    assert busy["512"] == pytest.approx(busy["1024"]) == pytest.approx(busy["1769"])


def test_item_sizes_follow_dynamodbs_rules() -> None:
    assert capacity.item_size({"ab": {"S": "héllo"}}) == 2 + 6
    assert capacity.item_size({"b": {"B": b"\x00" * 10}}) == 1 + 10
    # 1 byte per two significant digits, plus one; zeros at the ends do not count.
    assert capacity.item_size({"n": {"N": "12345"}}) == 1 + 4
    assert capacity.item_size({"n": {"N": "1200.00"}}) == 1 + 2
    assert capacity.item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert capacity.item_size({"l": {"L": [{"BOOL": True}, {"NULL": True}]}}) == 1 + 3 + 4


def test_units_round_up_per_kb_written_and_per_4_kb_read() -> None:
    assert capacity.write_units(0) == 1
    assert capacity.write_units(1024) == 1
    assert capacity.write_units(1025) == 2
    assert capacity.read_units(4097, consistent=True) == 2
    assert capacity.read_units(4097, consistent=False) == 1
    assert capacity.read_units(0, consistent=False) == 0.5


EVENTS = capacity.Table(
    "events", ("event_id",), {"by-pending": capacity.Index(("pending", "received_at"))}
)


def test_index_writes_only_when_an_entry_appears_moves_or_goes() -> None:
    keys = {"event_id": {"S": "evt_1"}, "pending": {"S": "1"}}
    entry = {**keys, "received_at": {"S": "2026"}}
    assert capacity.index_write_units(EVENTS, None, entry) == 1
    assert capacity.index_write_units(EVENTS, entry, None) == 1
    assert capacity.index_write_units(EVENTS, entry, {**entry, "status": {"S": "x"}}) == 0
    assert capacity.index_write_units(EVENTS, entry, {**entry, "received_at": {"S": "2027"}}) == 2
    assert capacity.index_write_units(EVENTS, keys, {**keys, "status": {"S": "x"}}) == 0
    # An index projecting every attribute rewrites its entry when any of them changes.
    whole = capacity.Table("t", ("event_id",), {"all": capacity.Index(("pending",), None)})
    assert capacity.index_write_units(whole, keys, {**keys, "status": {"S": "x"}}) == 1


def test_the_meter_prices_every_item_call_whichever_client_or_table_makes_it(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bench's arrangement: a fresh default session, metered, that the adapters build their
    # own clients and resources from.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.session.Session())
    meter = capacity.CapacityMeter()
    meter.attach(boto3.DEFAULT_SESSION.events)
    events = aws.settings.table
    item = {
        "event_id": {"S": "evt_1"},
        "pending": {"S": "1"},
        "received_at": {"S": "2026-01-01T00:00:00Z"},
        "body_z": {"B": bytes(range(256)) * 8},
    }
    boto3.client("dynamodb").put_item(TableName=events, Item=item)
    lock = DynamoDBSubjectLock(events)
    assert lock.acquire("acme/app#1", "evt_1", 30, finished=lambda _holder: False)
    # Refused, and billed all the same.
    assert not lock.acquire("acme/app#1", "evt_2", 30, finished=lambda _holder: False)
    lock.release("acme/app#1", "evt_1")
    ledger = DynamoDBBatchLedger(events + BATCH_TABLE_SUFFIX)
    parked = Parked("route", "evt_1", "2026-01-01T00:00:00Z", 1.0, 1_770_000_000)
    ledger.park(parked)
    assert ledger.parked("route", 10) == [parked]
    ledger.unpark([parked])

    written = [
        (c.operation, c.table, c.key.split("#")[0], c.write_units, c.index_write_units)
        for c in meter.calls
        if c.write_units
    ]
    batches = events + BATCH_TABLE_SUFFIX
    assert written == [
        ("PutItem", events, "evt_1", capacity.write_units(capacity.item_size(item)), 1),
        ("PutItem", events, "lock", 1, 0),
        ("PutItem", events, "lock", 1, 0),
        ("DeleteItem", events, "lock", 1, 0),
        ("PutItem", batches, "parked", 1, 0),
        ("BatchWriteItem", batches, "parked", 1, 0),
    ]
    assert written[0][3] == 3  # 2 KB of body: the size is the item's, not a flat unit
    assert [c.operation for c in meter.calls if c.read_units] == ["Query"]
    assert meter.unmetered == []


def test_prompt_economy_measures_real_prompts() -> None:
    figures = prompts.measure()
    pr = figures["pull_request.opened"]
    assert 0 < pr["prompt_bytes"] < pr["whole_payload_bytes"]
    assert pr["ratio"] <= 0.1
    assert set(figures) == set(prompts.EVENTS)


def test_a_small_ingest_run_gives_a_sane_ratio_and_prints_no_metrics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import ingest

    # Past 100 deliveries Powertools prints a metric set (each delivery adds a value to a
    # metric), even with metrics disabled: `make bench` must print only its table.
    figures = ingest.measure(requests=120)
    assert figures["handler_ms"]["median"] > 0
    assert figures["ratio_median"] > 0.5
    assert '"_aws"' not in capsys.readouterr().out


def test_large_pull_request_prompt_stays_within_the_route_budget() -> None:
    from bench import pr_context

    figures = pr_context.measure(files=220)
    assert figures["diff_tokens"] <= figures["diff_token_budget"]
    assert figures["prompt_tokens"] < figures["naive_prompt_tokens"] / 10
    assert 0 < figures["files_shown"] < 220
    pages = -(-220 // 100)
    # Opened: token exchange, the file pages, the comment search, the new comment.
    assert figures["provider_calls"]["pull_request.opened"] == 1 + pages + 1 + 1
    # Synchronize, the PR reviewed at its last head: the token is cached, one compare call
    # lists what changed since (no file pages), the comment is found and updated in place.
    assert figures["provider_calls"]["pull_request.synchronize"] == 1 + 1 + 1


def test_model_cost_by_mode_from_the_offline_models_token_counts() -> None:
    from bench import model_cost

    figures = model_cost.measure()
    shipped = {route.name for route in load_config(str(model_cost.CONFIG_PATH)).routes}
    assert shipped <= set(figures)
    for modes in figures.values():
        assert modes["batch"] <= modes["realtime"] / 2 + 1e-6
        assert modes["realtime_cached"] <= modes["realtime"] + 1e-6
    pr = figures["github-pr-review"]
    assert pr["batch"] <= pr["realtime"] / 2 + 1e-6
    # A prefix long enough to cache is read from the cache by all but the first event.
    long = figures[model_cost.LONG_PR_ROUTE]
    assert long["cacheable"]
    assert long["realtime_cached"] < long["realtime"] * 0.6


def test_a_metered_burst_reports_per_event_units_with_the_governors_writes_shared() -> None:
    from bench.bodies import bursts
    from hookwise.local.offline_model import OfflineModelServer

    model = OfflineModelServer().start()
    try:
        prs = bursts(4)[1]
        burst = cost._metered(prs, model.url)
    finally:
        model.stop()
    assert burst["events"] == 4
    assert burst["status"] == "completed"
    assert burst["route"] == "github-pr-review"
    by_kind = burst["write_units_by_kind"]
    # Each event writes its own body once (4 units for the 3.3 KB compressed PR, plus its
    # index entry) and its state; the governor books the batch's calls together, so its
    # writes per event are well under one booking and one settlement each.
    assert by_kind["EVENT"] == 5
    assert by_kind["EVENT#state"] >= 2
    assert 0 < by_kind["governor#"] < 1
    assert burst["write_units"] + burst["index_write_units"] == pytest.approx(sum(by_kind.values()))
    assert burst["log_bytes"] > 0
    assert burst["stored_bytes"] > 3_000
