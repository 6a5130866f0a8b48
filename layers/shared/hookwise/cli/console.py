"""`hookwise console`: the web console over the local stack or a deployed one."""

from __future__ import annotations

import os

import click

from hookwise.cli.common import CONSOLE_PORT, stack_outputs

# Stack outputs -> the settings the console reads them into (the functions' own names).
STACK_SETTINGS = {
    "TableName": "HOOKWISE_TABLE",
    "QueueUrl": "HOOKWISE_QUEUE_URL",
    "DlqUrl": "HOOKWISE_DLQ_URL",
}


def stack_environment(stack: str) -> dict[str, str]:
    """The settings naming a deployed stack's table and queues, from its outputs (by exact
    key: `TableName` is a part of `BatchTableName` too)."""
    outputs = stack_outputs(stack)
    missing = sorted(set(STACK_SETTINGS) - set(outputs))
    if missing:
        raise click.ClickException(f"stack {stack} has no output {', '.join(missing)}")
    return {setting: outputs[key] for key, setting in STACK_SETTINGS.items()}


@click.command()
@click.option("--stack", default=None, help="a deployed CloudFormation stack's name")
@click.option(
    "--port",
    type=int,
    default=CONSOLE_PORT,
    show_default=True,
    help="port of the console on 127.0.0.1",
)
@click.option(
    "--config", "config_path", default="hookwise.yaml", show_default=True,
    help="the configuration the stack runs (routes, budgets, limits)",
)  # fmt: skip
def console(stack: str | None, port: int, config_path: str) -> None:
    """Serve the console: events, their story and cost, the DLQ, routes.

    With --stack, over a deployed stack's table and queues with your own AWS credentials;
    without, over the resources the HOOKWISE_* settings name (`hookwise dev` starts a console
    over its own: see its banner)."""
    from hookwise import wiring
    from hookwise.console.server import ConsoleServer, port_free

    if stack:
        os.environ.update(stack_environment(stack))
    elif not os.environ.get("HOOKWISE_QUEUE_URL"):
        raise click.ClickException(
            "no stack to show: give --stack NAME, or set HOOKWISE_TABLE, HOOKWISE_QUEUE_URL "
            "and HOOKWISE_DLQ_URL (`hookwise dev` starts a console of its own)"
        )
    os.environ.setdefault("HOOKWISE_CONFIG", config_path)
    if not port_free(port):
        raise click.ClickException(f"port {port} is taken: try --port")
    wiring.reset()
    server = ConsoleServer(wiring.console_data(), port)
    click.echo(f"hookwise console on {server.url}")
    server.run()
