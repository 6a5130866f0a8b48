"""`hookwise dev`: the whole pipeline on loopback, offline, with the Lambda handlers as deployed.

moto's server stands in for DynamoDB, SQS, S3, EventBridge and Secrets Manager; resources are
created from `hookwise.resources` and `hookwise.yaml`, the definitions the CDK app uses.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from hookwise import wiring
from hookwise.adapters.provision import provision
from hookwise.adapters.secrets.base import env_override
from hookwise.config import HookwiseConfig, load_config
from hookwise.local import aws_emulator
from hookwise.local.event_source import EventSourceMapping
from hookwise.local.gateway import LocalGateway
from hookwise.observability import logger
from hookwise.resources import QUEUES
from hookwise.settings import Settings
from hookwise.verifiers import verifier_class

if TYPE_CHECKING:
    from hookwise.console.server import ConsoleServer

LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "HOOKWISE_ALLOW_PRIVATE_CALLBACKS": "true",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dev_secrets(config: HookwiseConfig) -> dict[str, list[str]]:
    """Each source's secrets: `HOOKWISE_SECRET_<SOURCE>` or its scheme's development secret."""
    return {
        name: env_override(name) or [verifier_class(source.scheme).dev_secret(name)]
        for name, source in config.sources.items()
    }


@dataclass
class LocalStack:
    port: int = 8787
    model_port: int = 0
    sweep_every: float = 10.0
    # The batch collector and poller run on this timer (their schedule is a minute on AWS).
    batch_every: float = 5.0
    log: Callable[[str], None] = print
    # The console's port (None: no console); taken, another is picked, as Jupyter does.
    console_port: int | None = None
    console: ConsoleServer | None = field(default=None, init=False, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    # How to stop each part started so far, in the order started: a signal can cut the start
    # short anywhere, and `stop` stops what it got to.
    _started: list[Callable[[], None]] = field(default_factory=list, init=False)

    def start(self) -> LocalStack:
        # The stack prints one line per step; moto's per-request access log would drown it.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logger.setLevel(os.environ.get("HOOKWISE_LOG_LEVEL", "WARNING"))
        moto_port = free_port()
        self._moto = aws_emulator.launch(moto_port)
        self._started.append(lambda: _end(self._moto))
        os.environ.update(LOCAL_ENVIRONMENT)
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{moto_port}"
        self.model_url = self._start_model()
        wiring.reset()
        self.config = load_config(Settings.from_environment().config)
        self.secrets = dev_secrets(self.config)
        provider_secrets = self._start_provider_fakes()
        self.resources = provision(
            Settings.from_environment(),
            self.config,
            self.secrets.__getitem__,
            provider_secrets=provider_secrets,
        )
        os.environ.update(
            {
                "HOOKWISE_QUEUE_URL": self.resources.queue_url,
                "HOOKWISE_DLQ_URL": self.resources.dlq_url,
                "HOOKWISE_BUCKET": self.resources.bucket,
                "HOOKWISE_EVENT_BUS": self.resources.event_bus,
            }
        )
        wiring.reset()
        self._start_functions()
        self._start_console()
        return self

    def _start_console(self) -> None:
        from hookwise.console.server import ConsoleServer, port_free

        if self.console_port is None:
            return
        port = self.console_port if self.console_port and port_free(self.console_port) else 0
        self.console = ConsoleServer(wiring.console_data(), port or free_port()).start()
        self._started.append(self.console.stop)

    def _start_model(self) -> str:
        if os.environ.get("ANTHROPIC_API_KEY"):
            return os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
        from hookwise.local.offline_model import OfflineModelServer

        self._model = OfflineModelServer(port=self.model_port).start()
        self._started.append(self._model.stop)
        os.environ["ANTHROPIC_BASE_URL"] = self._model.url
        os.environ["ANTHROPIC_API_KEY"] = "offline"
        return self._model.url

    def _start_provider_fakes(self) -> dict[str, str]:
        """GitHub and Slack fakes on loopback, unless a real API URL is set; returns the
        development credentials they accept."""
        from hookwise.local.provider_fakes import start_provider_fakes

        settings = Settings.from_environment()
        self.providers = start_provider_fakes(
            github_app_secret_name=settings.github_app_credentials,
            github_pat_secret_name=settings.github_pat_credentials,
            slack_bot_secret_name=settings.slack_bot_credentials,
            github="HOOKWISE_GITHUB_API_URL" not in os.environ,
            slack="HOOKWISE_SLACK_API_URL" not in os.environ,
            github_port=int(os.environ.get("HOOKWISE_DEV_GITHUB_PORT", "0")),
            slack_port=int(os.environ.get("HOOKWISE_DEV_SLACK_PORT", "0")),
        )
        self._started.append(self.providers.stop)
        os.environ.update(self.providers.environment)
        return self.providers.secrets

    def _start_functions(self) -> None:
        # Imported once the environment is set: handlers read settings lazily, but cleanly.
        from functions.batch_collector.handler import handler as batch_collector
        from functions.batch_poller.handler import handler as batch_poller
        from functions.dlq_redrive.handler import handler as dlq_redrive
        from functions.ingest.handler import handler as ingest
        from functions.sweeper.handler import handler as sweeper
        from functions.worker.handler import handler as worker

        settings = Settings.from_environment()
        self._sweeper = sweeper
        self.gateway = LocalGateway(
            self.port,
            ingest,
            {"dlq_redrive": dlq_redrive, "sweeper": sweeper},
            self.log,
            max_body_bytes=10 * 1024 * 1024,
        )
        self.mapping = EventSourceMapping(
            boto3.client("sqs"),
            self.resources.queue_url,
            self._logged(worker),
            concurrency=QUEUES.max_concurrency,
        )
        # A warm worker, as a deployed one is once traffic flows: the first event of a burst
        # does not wait for the model client's imports (on AWS, each environment pays them
        # once; here one process would pay them in the middle of the burst it serves).
        wiring.batch_runner()
        wiring.model_client().built()
        self._threads = [
            threading.Thread(target=self.gateway.serve_forever, daemon=True, name="gateway"),
            threading.Thread(target=self._sweep_forever, daemon=True, name="sweeper"),
        ]
        if any(route.mode == "batch" for route in self.config.routes):
            self._threads.append(
                threading.Thread(
                    target=self._batch_forever,
                    args=(batch_collector, batch_poller),
                    daemon=True,
                    name="batches",
                )
            )
        for thread in self._threads:
            thread.start()
        self._started.append(self.gateway.shutdown)
        self.mapping.start()
        self._started.append(self.mapping.stop)
        self.settings = settings

    def _logged(self, worker: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Any:
        """The worker, with one readable line per record: where each event ended up."""
        store = wiring.store()

        def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
            answer = worker(event, context)
            failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
            ids = [json.loads(record["body"])["event_id"] for record in event["Records"]]
            # One read per batch: in a burst, the emulator's time is the stack's throughput.
            found = store.get_many(ids)
            for record, event_id in zip(event["Records"], ids, strict=True):
                stored = found.get(event_id)
                status = stored.status.value if stored else "missing"
                detail = f" ({stored.error})" if stored and stored.error else ""
                retry = " -> back to the queue" if record["messageId"] in failed else ""
                self.log(f"worker {event_id}: {status}{detail}{retry}")
            return answer

        return invoke

    def _sweep_forever(self) -> None:
        from hookwise.local.event_source import LambdaContext

        while not self._stopping.wait(self.sweep_every):
            report = self._sweeper({}, LambdaContext("sweeper", 60, 256))
            if report.get("requeued"):
                self.log(f"sweeper re-enqueued {report['requeued']}")

    def _batch_forever(self, collector: Callable[..., Any], poller: Callable[..., Any]) -> None:
        """The collector, then the poller, one at a time, as their reserved concurrency of one
        keeps them on AWS."""
        from hookwise.local.event_source import LambdaContext

        while not self._stopping.wait(self.batch_every):
            try:
                collected = collector({}, LambdaContext("batch_collector", 300, 512))
                for batch_id, events in collected["submitted"].items():
                    self.log(f"batch collector submitted {batch_id} ({len(events)} events)")
                polled = poller({}, LambdaContext("batch_poller", 600, 1024))
                if polled["entries"]:
                    self.log(f"batch poller: {polled['entries']}")
            except Exception as error:  # a failed run is retried on the next tick, as on AWS
                self.log(f"batch run failed: {type(error).__name__}: {error}")

    def banner(self) -> str:
        lines = [
            f"hookwise local stack on http://127.0.0.1:{self.port}",
            f"  POST /webhooks/{{source}}   sources: {', '.join(self.config.sources)}",
            "  GET  /events/{event_id}   GET /events   GET /health",
            f"  model: {self.model_url}" + (" (offline model)" if hasattr(self, "_model") else ""),
            f"  AWS APIs (moto): {os.environ['AWS_ENDPOINT_URL']}",
            f"  GitHub API: {os.environ['HOOKWISE_GITHUB_API_URL']}"
            + (" (local fake)" if self.providers.github else ""),
            f"  Slack API: {os.environ['HOOKWISE_SLACK_API_URL']}"
            + (" (local fake)" if self.providers.slack else ""),
            "  development secrets (override with HOOKWISE_SECRET_<SOURCE>):",
            *(f"    {name}: {','.join(values)}" for name, values in self.secrets.items()),
            "try: .venv/bin/hookwise send github pull_request.opened",
        ]
        if self.console is not None:
            lines.insert(1, f"  console: {self.console.url}")
        return "\n".join(lines)

    def stop(self) -> None:
        """Stop what `start` started, however far it got, the last started first: the
        emulator, the one process of its own, last (it also ends with this process, however
        that ends: `aws_emulator.launch`)."""
        self._stopping.set()
        while self._started:
            self._started.pop()()


def _end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
