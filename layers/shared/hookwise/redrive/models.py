"""On-call actions and their answers: what the dlq_redrive function accepts and returns."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

DEFAULT_LIST_LIMIT = 50
# Messages per second sent back to the main queue: a redrive must not stampede the model.
DEFAULT_RATE_PER_SECOND = 10.0


class _Strict(BaseModel):
    # A misspelt filter must be an error, not a redrive of everything.
    model_config = ConfigDict(extra="forbid")


class Filters(_Strict):
    """Which dead letters an action applies to; every given filter must match."""

    event_ids: list[str] | None = None
    source: str | None = None
    event_type: str | None = None
    reason: str | None = Field(default=None, description="case-insensitive text match")
    older_than: float | None = Field(default=None, ge=0, description="seconds")
    newer_than: float | None = Field(default=None, ge=0, description="seconds")

    def unfiltered(self) -> bool:
        return all(getattr(self, name) is None for name in Filters.model_fields)


class SummaryAction(Filters):
    action: Literal["summary"]


class ListAction(Filters):
    action: Literal["list"]
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=1000)


class RedriveAction(Filters):
    action: Literal["redrive"]
    limit: int | None = Field(default=None, ge=1)
    dry_run: bool = False
    rate_per_second: float = Field(default=DEFAULT_RATE_PER_SECOND, gt=0, le=1000)


class ReplayAction(_Strict):
    action: Literal["replay"]
    event_ids: list[str] = Field(min_length=1)
    force: bool = Field(default=False, description="also reprocess completed/skipped events")
    dry_run: bool = False
    rate_per_second: float = Field(default=DEFAULT_RATE_PER_SECOND, gt=0, le=1000)


Action = Annotated[
    SummaryAction | ListAction | RedriveAction | ReplayAction, Field(discriminator="action")
]
_ACTION = TypeAdapter(Action)


class InvalidAction(ValueError):
    def __init__(self, details: list[str]) -> None:
        super().__init__("; ".join(details))
        self.details = details


def parse_action(payload: Any) -> SummaryAction | ListAction | RedriveAction | ReplayAction:
    try:
        return _ACTION.validate_python(payload)
    except ValidationError as error:
        raise InvalidAction(
            [
                f"{'.'.join(str(part) for part in problem['loc']) or 'action'}: {problem['msg']}"
                for problem in error.errors()
            ]
        ) from error


class Group(BaseModel):
    source: str
    event_type: str
    reason: str
    count: int
    oldest_age_seconds: float


class SummaryAnswer(BaseModel):
    ok: bool = True
    action: Literal["summary"] = "summary"
    total: int
    oldest_age_seconds: float | None
    groups: list[Group]


class DeadLetterView(BaseModel):
    event_id: str
    source: str
    event_type: str
    status: str | None
    attempts: int | None
    redrive_count: int | None
    reason: str
    age_seconds: float
    receive_count: int


class ListAnswer(BaseModel):
    ok: bool = True
    action: Literal["list"] = "list"
    count: int
    messages: list[DeadLetterView]


class Outcome(BaseModel):
    event_id: str
    outcome: str
    detail: str = ""


class BulkAnswer(BaseModel):
    """The answer to a redrive or a replay: counts by outcome, then each event's outcome."""

    ok: bool = True
    action: Literal["redrive", "replay"]
    dry_run: bool
    counts: dict[str, int]
    outcomes: list[Outcome]
    # The function ran short of time: run the same action again to continue.
    stopped_early: bool = False

    @classmethod
    def of(
        cls, action: Literal["redrive", "replay"], dry_run: bool, outcomes: list[Outcome]
    ) -> BulkAnswer:
        counts: dict[str, int] = {}
        for item in outcomes:
            counts[item.outcome] = counts.get(item.outcome, 0) + 1
        return cls(action=action, dry_run=dry_run, counts=counts, outcomes=outcomes)


class ErrorAnswer(BaseModel):
    ok: bool = False
    error: str
    details: list[str] = Field(default_factory=list)
