"""Secrets from AWS Secrets Manager, cached by Powertools parameters."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider as PowertoolsSecrets
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from hookwise.adapters.secrets.base import (
    SecretsProvider,
    SecretUnavailable,
    env_override,
    parse_secret_list,
)

CACHE_SECONDS = 300


class SecretsManagerProvider(SecretsProvider):
    def __init__(self, client: Any = None, max_age: int = CACHE_SECONDS) -> None:
        # A client of boto3's default session, which the function's other clients share:
        # Powertools' own would open a new session and load botocore's data again (~50 ms of
        # a cold start).
        self._secrets = PowertoolsSecrets(boto3_client=client or boto3.client("secretsmanager"))
        self._max_age = max_age

    def source_secrets(self, source: str, secret_name: str) -> list[str]:
        override = env_override(source)
        if override is not None:
            return override
        try:
            value = self._secrets.get(secret_name, max_age=self._max_age)
        except GetParameterError as error:
            raise SecretUnavailable(secret_name) from error
        return parse_secret_list(str(value))
