"""What the CLI commands share: where the API is, and how to call it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import httpx

DEFAULT_PORT = 8787
# The console's (`hookwise console`, and the one `hookwise dev` starts).
CONSOLE_PORT = 8788


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--port (the local stack), --stack (a deployed one) and --json."""
    for option in (
        click.option(
            "--port",
            type=int,
            default=DEFAULT_PORT,
            show_default=True,
            help="port of the local stack started by `hookwise dev`",
        ),
        click.option("--stack", default=None, help="a deployed CloudFormation stack's name"),
        click.option("--json", "as_json", is_flag=True, help="print machine-readable JSON"),
    ):
        command = option(command)
    return command


def stack_outputs(stack: str) -> dict[str, str]:
    """A deployed stack's outputs, by key."""
    import boto3  # only for a deployed stack

    outputs = (
        boto3.client("cloudformation")
        .describe_stacks(StackName=stack)["Stacks"][0]
        .get("Outputs", [])
    )
    return {str(output["OutputKey"]): str(output["OutputValue"]) for output in outputs}


def stack_output(stack: str, contains: str) -> str:
    """The value of the stack output whose key contains `contains` (case-insensitive)."""
    for key, value in stack_outputs(stack).items():
        if contains.lower() in key.lower():
            return value
    raise click.ClickException(f"stack {stack} has no output named like {contains!r}")


class SigV4(httpx.Auth):
    """IAM-authorised API Gateway routes: sign each request with the caller's credentials."""

    def __init__(self, region: str | None = None) -> None:
        import boto3

        session = boto3.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise click.ClickException("no AWS credentials found for the deployed stack")
        self._credentials = credentials
        self._region = region or session.region_name or "us-east-1"

    def auth_flow(self, request: httpx.Request) -> Any:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        aws = AWSRequest(
            method=request.method,
            url=str(request.url),
            data=request.content,
            headers={"host": request.url.host},
        )
        SigV4Auth(self._credentials, "execute-api", self._region).add_auth(aws)
        request.headers.update(dict(aws.headers.items()))
        yield request


def api(port: int, stack: str | None) -> httpx.Client:
    """A client for the hookwise HTTP API: the local stack, or a deployed stack's API."""
    if stack:
        return httpx.Client(
            base_url=stack_output(stack, "ApiUrl").rstrip("/"), auth=SigV4(), timeout=30
        )
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)


def get_json(client: httpx.Client, path: str) -> Any:
    try:
        answer = client.get(path)
    except httpx.TransportError as error:
        raise click.ClickException(
            f"cannot reach {client.base_url} ({error}); is `hookwise dev` running?"
        ) from error
    if answer.status_code == 404:
        raise click.ClickException(f"not found: {path}")
    if answer.status_code != 200:
        raise click.ClickException(f"{path} answered {answer.status_code}: {answer.text}")
    return answer.json()
