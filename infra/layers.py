"""The two Lambda layers, built on this machine without Docker.

- shared: the `hookwise` package (the same code the tests import) and `hookwise.yaml` at the
  layer root, so functions read `/opt/hookwise.yaml`, with `/opt/hookwise.json` beside it
  (the same configuration compiled at synth time, which the functions load instead);
- dependencies: `layers/deps/requirements.txt` installed with pip for arm64 / the Lambda Python
  (`--platform ... --only-binary=:all:`), cached under `build/` by the requirements' hash.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from hookwise.config.loader import compile_config
from hookwise.sources import compiled_path
from infra.paths import BUILD, DEPENDENCIES, SHARED_PACKAGE

RUNTIME = lambda_.Runtime.PYTHON_3_14
PYTHON_VERSION = "3.14"
PLATFORM = "manylinux2014_aarch64"
# The runtime ships these (and their metadata); a second copy would only grow the layer.
PROVIDED_BY_RUNTIME = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "python_dateutil",
    "six",
    "urllib3",
)
# Never used: a local bundler always succeeds, so no image is pulled.
NO_IMAGE = cdk.DockerImage.from_registry("hookwise/local-bundling-only")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


@jsii.implements(cdk.ILocalBundling)
class SharedLayerBundler:
    # Development-only subpackages of `hookwise` (the CLI, the console, the local stack with its
    # offline model, the sample payloads): no function imports them, so Lambda never needs them.
    DEVELOPMENT_ONLY = frozenset({"cli", "console", "local", "samples"})

    def __init__(self, config: Path) -> None:
        self._config = config

    def _ignore(self, directory: str, names: list[str]) -> set[str]:
        ignored = set(IGNORED(directory, names))
        if Path(directory) == SHARED_PACKAGE:
            ignored |= self.DEVELOPMENT_ONLY & set(names)
        return ignored

    def try_bundle(self, output_dir: str, _options: Any = None) -> bool:
        shutil.copytree(
            SHARED_PACKAGE,
            Path(output_dir) / "python" / "hookwise",
            ignore=self._ignore,
            dirs_exist_ok=True,
        )
        shutil.copy(self._config, Path(output_dir) / "hookwise.yaml")
        compile_config(self._config, compiled_path(Path(output_dir) / "hookwise.yaml"))
        return True


def dependencies_hash() -> str:
    return hashlib.sha256(
        DEPENDENCIES.read_bytes() + f"{PLATFORM}{PYTHON_VERSION}".encode()
    ).hexdigest()[:20]


def built_dependencies() -> Path:
    """pip's result for the Lambda platform, built once per requirements file."""
    target = BUILD / "layers" / f"deps-{dependencies_hash()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Parallel synths (test workers, `make synth` beside the tests) build it once.
    with (target.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "python").is_dir():
            _pip_install(target)
    return target


def _pip_install(target: Path) -> None:
    """Install into a staging folder, then rename: a half-built layer is never used."""
    staging = target.with_suffix(".partial")
    shutil.rmtree(staging, ignore_errors=True)
    subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            # Bytecode from this interpreter would not match the runtime's Python: dead weight.
            "--no-compile",
            "--platform",
            PLATFORM,
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            "--only-binary=:all:",
            "--target",
            str(staging / "python"),
            "-r",
            str(DEPENDENCIES),
        ],
        check=True,
    )
    for provided in PROVIDED_BY_RUNTIME:
        for path in (staging / "python").glob(f"{provided}*"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    staging.rename(target)


@jsii.implements(cdk.ILocalBundling)
class DependencyLayerBundler:
    def try_bundle(self, output_dir: str, _options: Any = None) -> bool:
        shutil.copytree(built_dependencies(), output_dir, dirs_exist_ok=True)
        return True


def as_local(bundler: object) -> cdk.ILocalBundling:
    """jsii's @implements is invisible to mypy; the decorator is what makes this true."""
    return cast(cdk.ILocalBundling, bundler)


class HookwiseLayers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: Path) -> None:
        super().__init__(scope, construct_id)
        self.shared = lambda_.LayerVersion(
            self,
            "Shared",
            code=lambda_.Code.from_asset(
                str(SHARED_PACKAGE.parent),
                asset_hash_type=cdk.AssetHashType.OUTPUT,
                bundling=cdk.BundlingOptions(
                    image=NO_IMAGE, local=as_local(SharedLayerBundler(config))
                ),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="hookwise package and hookwise.yaml",
        )
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(
                str(DEPENDENCIES.parent),
                asset_hash_type=cdk.AssetHashType.CUSTOM,
                asset_hash=dependencies_hash(),
                bundling=cdk.BundlingOptions(
                    image=NO_IMAGE, local=as_local(DependencyLayerBundler())
                ),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Powertools, anthropic, pydantic",
        )
