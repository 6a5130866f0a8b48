"""What the measurements share: a provisioned moto server, signed deliveries, timers."""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities import parameters

from bench.configs import UNLIMITED, config_with
from hookwise import wiring
from hookwise.adapters.provision import Provisioned, provision
from hookwise.config import HookwiseConfig, load_config
from hookwise.local import aws_emulator
from hookwise.local.provider_fakes import start_provider_fakes
from hookwise.local.stack import LOCAL_ENVIRONMENT, free_port
from hookwise.observability import metrics
from hookwise.settings import Settings
from hookwise.verifiers import verifier_for

ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = ROOT / "hookwise.yaml"
SECRET = "bench-secret"


def signed_github(config: HookwiseConfig, body: bytes, event: str) -> dict[str, str]:
    verifier = verifier_for(config.sources["github"])
    return verifier.sign(
        body,
        SECRET,
        url="",
        event_type=event,
        delivery_id=str(uuid.uuid4()),
        timestamp=int(time.time()),
    )


@contextmanager
def moto_stack(**settings: str) -> Iterator[tuple[HookwiseConfig, Provisioned]]:
    """moto's server on loopback, provisioned like the local stack, env pointing at it, with
    the GitHub and Slack fakes standing in for the providers, as under `hookwise dev`.

    The handlers run in this process, and their only stdout is Powertools' metric JSON: even
    with metrics disabled, Powertools keeps every value and prints the whole set each time a
    metric reaches 100 values. It would bury the bench's table, so it goes nowhere, and the
    set is emptied on the way out so it cannot leak into the next measurement's figures.
    """
    port = free_port()
    # In its own process, as under `hookwise dev` (and as DynamoDB is another machine): moto
    # in the handlers' interpreter would take their GIL and bill its work to their seconds.
    # A fresh process per measurement is an empty account.
    server = aws_emulator.launch(port)
    endpoint = f"http://127.0.0.1:{port}"
    saved = dict(os.environ)
    os.environ.update(LOCAL_ENVIRONMENT)
    os.environ.update({f"HOOKWISE_{k.upper()}": v for k, v in settings.items()})
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    # Model limits out of the way: these measurements are not about the governor.
    config_path = config_with(Path(tempfile.mkdtemp(prefix="hookwise-bench-")), UNLIMITED)
    os.environ["HOOKWISE_CONFIG"] = str(config_path)
    os.environ["HOOKWISE_SECRET_GITHUB"] = SECRET
    providers = start_provider_fakes(
        github_app_secret_name=Settings.from_environment().github_app_credentials,
        github_pat_secret_name=Settings.from_environment().github_pat_credentials,
        slack_bot_secret_name=Settings.from_environment().slack_bot_credentials,
    )
    os.environ.update(providers.environment)
    # Powertools caches secrets per process: each measurement has its own App key.
    parameters.clear_caches()
    wiring.reset()
    metrics.clear_metrics()
    try:
        with open(os.devnull, "w") as nowhere, redirect_stdout(nowhere):
            config = load_config(str(config_path))
            resources = provision(
                Settings.from_environment(),
                config,
                lambda _name: [SECRET],
                provider_secrets=providers.secrets,
            )
            os.environ["HOOKWISE_QUEUE_URL"] = resources.queue_url
            os.environ["HOOKWISE_DLQ_URL"] = resources.dlq_url
            os.environ["HOOKWISE_BUCKET"] = resources.bucket
            # Results are pushed on as in production (the cost table charges for it).
            os.environ["HOOKWISE_EVENT_BUS"] = resources.event_bus
            wiring.reset()
            yield config, resources
    finally:
        metrics.clear_metrics()
        os.environ.clear()
        os.environ.update(saved)
        wiring.reset()
        providers.stop()
        server.terminate()
        server.wait()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
