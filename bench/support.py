"""What the measurements share: a provisioned moto server, signed deliveries, timers."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from aws_lambda_powertools.utilities import parameters
from moto.server import ThreadedMotoServer

from hookwise import wiring
from hookwise.adapters.provision import Provisioned, provision
from hookwise.config import HookwiseConfig, load_config
from hookwise.local.provider_fakes import start_provider_fakes
from hookwise.local.stack import LOCAL_ENVIRONMENT, free_port
from hookwise.settings import Settings
from hookwise.verifiers import verifier_for

ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = ROOT / "hookwise.yaml"
SAMPLES = ROOT / "layers" / "shared" / "hookwise" / "samples"
FIXTURES = ROOT.parent / "shared" / "fixtures" / "github"
SECRET = "bench-secret"


def github_payload(name: str) -> bytes:
    """GitHub's own published example when present, else the project's sample."""
    published = FIXTURES / f"{name}.json"
    return (published if published.exists() else SAMPLES / "github" / f"{name}.json").read_bytes()


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
    the GitHub and Slack fakes standing in for the providers, as under `hookwise dev`."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._port}"
    # moto's backends live in this process: start each measurement from an empty account.
    httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
    saved = dict(os.environ)
    os.environ.update(LOCAL_ENVIRONMENT)
    os.environ.update({f"HOOKWISE_{k.upper()}": v for k, v in settings.items()})
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["HOOKWISE_CONFIG"] = str(CONFIG_PATH)
    os.environ["HOOKWISE_SECRET_GITHUB"] = SECRET
    providers = start_provider_fakes(
        github_app_secret_name=Settings().github_app_credentials,
        slack_bot_secret_name=Settings().slack_bot_credentials,
    )
    os.environ.update(providers.environment)
    # Powertools caches secrets per process: each measurement has its own App key.
    parameters.clear_caches()
    wiring.reset()
    try:
        config = load_config(str(CONFIG_PATH))
        resources = provision(
            Settings(), config, lambda _name: [SECRET], provider_secrets=providers.secrets
        )
        os.environ["HOOKWISE_QUEUE_URL"] = resources.queue_url
        os.environ["HOOKWISE_DLQ_URL"] = resources.dlq_url
        os.environ["HOOKWISE_BUCKET"] = resources.bucket
        wiring.reset()
        yield config, resources
    finally:
        os.environ.clear()
        os.environ.update(saved)
        wiring.reset()
        providers.stop()
        server.stop()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
