from hookwise.adapters.secrets.base import SecretsProvider, SecretUnavailable

__all__ = ["SecretUnavailable", "SecretsProvider"]
