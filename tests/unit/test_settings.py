"""Settings from the environment: HOOKWISE_<NAME>, converted to each field's type."""

from __future__ import annotations

import pytest

from hookwise.settings import Settings


def test_variables_override_defaults_with_their_types() -> None:
    settings = Settings.from_environment(
        {
            "HOOKWISE_TABLE": "events",
            "hookwise_max_failures": "7",
            "HOOKWISE_MODEL_TIMEOUT_SECONDS": "12.5",
            "HOOKWISE_ALLOW_PRIVATE_CALLBACKS": "True",
            "OTHER": "ignored",
        }
    )
    assert settings.table == "events"
    assert settings.max_failures == 7
    assert settings.model_timeout_seconds == 12.5
    assert settings.allow_private_callbacks is True
    assert settings.queue_url == Settings().queue_url  # untouched: the default


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MAX_FAILURES", "five", "expected int"),
        ("ALLOW_PRIVATE_CALLBACKS", "maybe", "expected bool"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(ValueError, match=f"HOOKWISE_{name}='{value}': {expected}"):
        Settings.from_environment({f"HOOKWISE_{name}": value})
