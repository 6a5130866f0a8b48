"""`hookwise dev`: the local stack in the foreground."""

from __future__ import annotations

import signal
import time

import click

from hookwise.cli.common import CONSOLE_PORT, DEFAULT_PORT

# How a terminal, a process manager or `timeout` stops it.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Stopped(Exception):
    """A signal asked the local stack to stop."""


def stop_on_signals() -> None:
    """A stop signal ends what runs in the main thread: the stack starting, or waiting."""

    def stop(signum: int, _frame: object) -> None:
        ignore_stop_signals()
        raise Stopped(signal.Signals(signum).name)

    for each in STOP_SIGNALS:
        signal.signal(each, stop)


def ignore_stop_signals() -> None:
    """While the stack stops: a second signal must not cut the stopping short (SIGKILL still
    can, and the emulator ends with this process all the same)."""
    for each in STOP_SIGNALS:
        signal.signal(each, signal.SIG_IGN)


@click.command()
@click.option(
    "--port",
    type=int,
    default=DEFAULT_PORT,
    show_default=True,
    help="port of the local HTTP API on 127.0.0.1",
)
@click.option(
    "--model-port", type=int, default=0, help="port of the offline model (default: any free port)"
)
@click.option(
    "--sweep-every",
    type=float,
    default=10.0,
    show_default=True,
    help="seconds between sweeps for events stuck in `received`",
)
@click.option(
    "--batch-every",
    type=float,
    default=5.0,
    show_default=True,
    envvar="HOOKWISE_BATCH_EVERY",
    help="seconds between runs of the batch collector and poller (routes with mode: batch)",
)
@click.option(
    "--console-port",
    type=int,
    default=CONSOLE_PORT,
    show_default=True,
    envvar="HOOKWISE_CONSOLE_PORT",
    help="port of the console on 127.0.0.1 (another if taken; its URL is in the banner)",
)
@click.option("--no-console", is_flag=True, help="do not start the console")
def dev(
    port: int,
    model_port: int,
    sweep_every: float,
    batch_every: float,
    console_port: int,
    no_console: bool,
) -> None:
    """Run the whole pipeline locally, offline: API, queue, worker, model, sweeper, batches."""
    from hookwise.cli.config_check import validated
    from hookwise.local.stack import LocalStack
    from hookwise.settings import Settings

    # Before anything starts: an invalid configuration is reported as `config check` does.
    validated(Settings.from_environment().config)

    def log(line: str) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {line}")

    stack = LocalStack(
        port=port,
        model_port=model_port,
        sweep_every=sweep_every,
        batch_every=batch_every,
        log=log,
        console_port=None if no_console else console_port,
    )
    stop_on_signals()
    try:
        try:
            stack.start()
        except OSError as error:
            raise click.ClickException(
                f"cannot start the local stack: {error.strerror} (is port {port} or "
                f"{model_port or 'the model port'} taken? try --port)"
            ) from error
        click.echo(stack.banner(), err=False)
        while True:
            time.sleep(3600)
    except Stopped:
        pass
    finally:
        ignore_stop_signals()
        click.echo("stopping the local stack")
        stack.stop()
