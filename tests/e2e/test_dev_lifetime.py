"""`hookwise dev` as a terminal, a process manager or `timeout` runs it: an invalid configuration
is reported as `hookwise config check` reports it, and a signal stops every process it started
(the AWS emulator is one of its own), port freed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bench.configs import UNLIMITED, config_with
from hookwise.local.process import dev_process
from hookwise.local.stack import free_port
from tests.conftest import ROOT

HOOKWISE = str(Path(sys.executable).with_name("hookwise"))
STOP_SECONDS = 60


def stack_env() -> dict[str, str]:
    """As the e2e stack runs: the offline model, the shipped configuration."""
    return {
        "ANTHROPIC_API_KEY": "",
        "HOOKWISE_CONFIG": str(config_with(Path(tempfile.mkdtemp()), UNLIMITED)),
    }


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(child) for child in found.stdout.split()]


def emulator_of(pid: int, seconds: float = STOP_SECONDS) -> tuple[int, int]:
    """The AWS emulator `hookwise dev` started: its pid and its port, from its command line."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for child in children(pid):
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            if b"hookwise.local.aws_emulator" in command:
                return child, int(command[command.index(b"--port") + 1])
        time.sleep(0.1)
    raise AssertionError("hookwise dev started no AWS emulator")


def alive(pid: int) -> bool:
    try:
        # A zombie (exited, not yet reaped by its new parent) holds no port and runs nothing.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def gone(pid: int, port: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid) and port_free(port):
            return True
        time.sleep(0.1)
    return False


def test_an_invalid_configuration_is_reported_as_config_check_reports_it(
    tmp_path: Path,
) -> None:
    config = tmp_path / "hookwise.yaml"
    config.write_text("sources:\n  github: {scheme: github}\nroutes: [{name: only-a-name}]\n")
    env = {**os.environ, "HOOKWISE_CONFIG": str(config), "ANTHROPIC_API_KEY": ""}
    checked = subprocess.run(
        [HOOKWISE, "config", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert checked.returncode == 1
    dev = subprocess.run(
        [HOOKWISE, "dev", "--port", str(free_port())],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
        timeout=STOP_SECONDS,
    )
    assert "Traceback" not in dev.stderr + dev.stdout
    assert dev.returncode == checked.returncode
    assert dev.stderr == checked.stderr
    assert "routes[0].system: Field required" in dev.stderr


@pytest.mark.parametrize(
    "stop",
    [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL],
    ids=lambda stop: stop.name,
)
def test_a_signal_stops_every_process_the_stack_started(stop: signal.Signals) -> None:
    with dev_process(ROOT, stack_env()) as dev:
        emulator, emulator_port = emulator_of(dev.process.pid)
        assert not port_free(emulator_port)
        dev.process.send_signal(stop)
        dev.process.wait(timeout=STOP_SECONDS)
        assert gone(emulator, emulator_port), f"the AWS emulator outlived hookwise dev ({stop})"
        assert port_free(dev.port)


def test_a_signal_while_the_stack_starts_stops_what_it_started() -> None:
    env = {**os.environ, **stack_env()}
    process = subprocess.Popen(
        [HOOKWISE, "dev", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        emulator, emulator_port = emulator_of(process.pid)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=STOP_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
    assert gone(emulator, emulator_port), "the AWS emulator outlived hookwise dev"
