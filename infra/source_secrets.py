"""One Secrets Manager secret per source in hookwise.yaml, and the Anthropic API key."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from hookwise.config import HookwiseConfig
from infra.nag import acknowledge

ROTATION_REASON = (
    "Webhook signing secrets are issued by the provider and rotated there, with old and new "
    "held together in the secret's list during the overlap; the API key is rotated in the "
    "Anthropic console. Neither can be rotated by a Lambda here."
)


class SourceSecrets(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: HookwiseConfig, prefix: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_source: dict[str, secretsmanager.Secret] = {}
        for name, source in config.sources.items():
            # Generated, never in the template; replace it with the provider's secret(s).
            self.by_source[name] = secretsmanager.Secret(
                self,
                f"Source-{name}",
                secret_name=source.secret_name or f"{prefix}{name}",
                description=f"hookwise: signing secrets for source {name} (JSON list)",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    exclude_punctuation=True, password_length=48
                ),
            )
        self.anthropic_key = secretsmanager.Secret(
            self,
            "AnthropicApiKey",
            secret_name=f"{prefix}anthropic-api-key",
            description="hookwise: Anthropic API key (set it after deploying)",
        )
        acknowledge(self, ROTATION_REASON, "AwsSolutions-SMG4")
