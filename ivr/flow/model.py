"""The IVR flow as data: pydantic models for flows, nodes, schedules and the handoff registry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

DTMF_KEYS = "0123456789*#"
DEFAULT_TIMEZONE = "Asia/Shanghai"
OPERATOR_KEY = "0"
MAX_COLLECT_DIGITS = 64
SLUG_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
BUILTIN_NODE_TYPES = ("play", "menu", "collect", "hours", "set", "language", "goto", "hangup")
HANDOFF_TAG = "handoff"
# The work-order categories (backoffice.domain.deadlines.Category), which speech nodes route by.
SPEECH_CATEGORIES = (
    "wage_arrears", "work_injury", "labor_contract", "social_insurance", "legal_consultation",
    "hardship_assistance", "suggestion", "other",
)  # fmt: skip

# What each handoff adapter may answer. Other modules add kinds with register_handoff().
HANDOFF_OUTCOMES: dict[str, frozenset[str]] = {
    # overflow: the queue's max wait passed and its settings name an overflow node.
    "queue": frozenset({"answered", "timeout", "overflow", "callback", "message", "hangup"}),
    # speech: what the caller said was about one of the work-order categories (routed by its
    # name, else 'matched'), or it was unclear and the caller gets the keys (no_match).
    "speech": frozenset({"matched", "no_match", *SPEECH_CATEGORIES}),
    "speech_confirm": frozenset({"yes", "no", "unclear"}),
    "callback": frozenset({"booked", "declined"}),
    "survey": frozenset({"done"}),
    "order_status": frozenset({"found", "not_found"}),
    "message": frozenset({"recorded", "empty"}),
}


def register_handoff(kind: str, outcomes: frozenset[str] | set[str] | tuple[str, ...]) -> None:
    """Let flows use a new handoff node type (or add outcomes to an existing one)."""
    if not re.fullmatch(SLUG_PATTERN, kind) or kind in BUILTIN_NODE_TYPES:
        raise ValueError(f"handoff kind '{kind}' must be a slug that is not a built-in node type")
    if not outcomes or not all(re.fullmatch(SLUG_PATTERN, name) for name in outcomes):
        raise ValueError(f"handoff kind '{kind}' needs at least one slug outcome")
    HANDOFF_OUTCOMES[kind] = HANDOFF_OUTCOMES.get(kind, frozenset()) | frozenset(outcomes)


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
NodeRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PromptText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Scalar = str | int | float | bool | None
Param = Scalar | list[Scalar]


def _as_list(value: Any) -> Any:
    # YAML authors write `prompt: welcome` for the common single-prompt case.
    return [value] if isinstance(value, str) else value


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


PromptIds = Annotated[tuple[NodeRef, ...], BeforeValidator(_as_list), Field(min_length=1)]
OptionalPromptIds = Annotated[tuple[NodeRef, ...], BeforeValidator(_as_list)]
VariableValue = Annotated[str, BeforeValidator(_as_text)]
# Keys may arrive as numbers from JSON or plain YAML (`1: legal`); callers press text.
KeypadKey = Annotated[str, BeforeValidator(_as_text)]


@dataclass(frozen=True)
class TimeRange:
    """Opening hours within one day, in minutes after midnight; end is exclusive."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def parse_time_range(value: Any) -> TimeRange:
    """`"08:30-12:00"` -> TimeRange; raises ValueError naming the bad text."""
    if isinstance(value, TimeRange):
        return value
    start, _, end = str(value).partition("-")
    first, last = _minutes(start), _minutes(end)
    if first is None or last is None or first >= last:
        raise ValueError(
            f"bad time range '{value}': use HH:MM-HH:MM within 00:00-24:00, start before end"
        )
    return TimeRange(first, last)


TimeRangeField = Annotated[TimeRange, PlainValidator(parse_time_range), PlainSerializer(str)]


def check_timezone(name: str) -> str:
    """The IANA name if this machine knows it; ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}'") from None
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Strict):
    """When a service is staffed; `holidays: china` follows the State Council calendar."""

    timezone: str | None = None
    always: bool = False
    workdays: tuple[TimeRangeField, ...] = ()
    weekends: tuple[TimeRangeField, ...] = ()
    holidays: Literal["china", "none"] = "china"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class ConfirmSpec(_Strict):
    """Read collected digits back and ask the caller to confirm them."""

    prompt: PromptIds
    intro: OptionalPromptIds = ()
    yes: KeypadKey = "1"
    no: KeypadKey = "2"


# Queue names reach the dialplan (hotline-queue,<name>), which keeps only a-z and _.
QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")]
SkillName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
SkillCap = Annotated[int, Field(ge=0, le=5)]


class EscalationSpec(_Strict):
    """After `after_s` seconds of waiting, widen who may take the call (acd EscalationStep)."""

    after_s: float = Field(gt=0, le=3600)
    min_level_delta: int | None = Field(None, ge=-4, le=-1)
    relax_to: dict[SkillName, SkillCap] | None = None
    any_operator: bool = False

    @model_validator(mode="after")
    def _relaxes(self) -> EscalationSpec:
        if not (self.min_level_delta or self.relax_to or self.any_operator):
            raise ValueError(
                f"step after {self.after_s:g} s relaxes nothing: "
                "give min_level_delta, relax_to or any_operator"
            )
        return self


class QueueSettings(_Strict):
    """What a caller waiting in one queue gets: hold announcements, keys, limits, escalation."""

    # None: the server's HOTLINE_ACD_WRAP_UP_SECONDS / HOTLINE_ACD_MAX_WAIT_SECONDS.
    wrap_up_s: float | None = Field(default=None, ge=0, le=600)
    # Position and estimated wait every this many seconds; None: hold music only.
    announce_every_s: float | None = Field(default=None, ge=5, le=600)
    # Spoken with {position}, then (when recent figures allow an estimate) {wait_minutes}.
    position_prompt: Slug = "queue_position"
    wait_prompt: Slug | None = "queue_wait"
    max_wait_s: float | None = Field(default=None, ge=5, le=7200)
    # Where the caller goes when max_wait_s passes; None: the queue node's 'timeout' outcome.
    overflow: NodeRef | None = None
    # A key that books a call back keeping the caller's place; None turns it off.
    callback_key: KeypadKey | None = "1"
    message_key: KeypadKey | None = "2"
    escalation: tuple[EscalationSpec, ...] = ()
    # Lawyers are offered only calls that need the legal skill.
    lawyers_only: bool = True


DEFAULT_QUEUE_SETTINGS = QueueSettings()


class _Node(_Strict):
    # A node that waits breaks a loop: the caller (or an adapter) must act before it moves on.
    waits_for_input: ClassVar[bool] = False
    # Reaching one of these means the call can end (hang-up, or handed to a person/service).
    ends_call: ClassVar[bool] = False

    def exits(self) -> list[tuple[str, str]]:
        """(what the edge is called, target node id) for every node this one can go to."""
        return []

    def prompt_refs(self) -> list[tuple[str, str]]:
        """(field, prompt id) for every prompt this node speaks."""
        return []


def _refs(field: str, ids: tuple[str, ...] | None) -> list[tuple[str, str]]:
    return [(field, prompt_id) for prompt_id in ids or ()]


class PlayNode(_Node):
    type: Literal["play"]
    prompt: PromptIds
    next: NodeRef

    def exits(self) -> list[tuple[str, str]]:
        return [("next", self.next)]

    def prompt_refs(self) -> list[tuple[str, str]]:
        return _refs("prompt", self.prompt)


class _Asking(_Node):
    waits_for_input: ClassVar[bool] = True
    prompt: PromptIds
    timeout_s: float = Field(5.0, gt=0, le=120)
    max_tries: int = Field(3, ge=1, le=10)
    invalid_prompt: OptionalPromptIds = ()
    timeout_prompt: OptionalPromptIds | None = None

    def prompt_refs(self) -> list[tuple[str, str]]:
        return (
            _refs("prompt", self.prompt)
            + _refs("invalid_prompt", self.invalid_prompt)
            + _refs("timeout_prompt", self.timeout_prompt)
        )


def _optional_exits(**fields: str | None) -> list[tuple[str, str]]:
    return [(name, target) for name, target in fields.items() if target is not None]


class MenuNode(_Asking):
    type: Literal["menu"]
    choices: dict[KeypadKey, NodeRef] = Field(min_length=1)
    on_invalid: NodeRef | None = None
    on_timeout: NodeRef | None = None
    on_exit: NodeRef | None = None

    def exits(self) -> list[tuple[str, str]]:
        chosen = [(f"choice '{key}'", target) for key, target in self.choices.items()]
        return chosen + _optional_exits(
            on_invalid=self.on_invalid, on_timeout=self.on_timeout, on_exit=self.on_exit
        )


class CollectNode(_Asking):
    type: Literal["collect"]
    min_digits: int = Field(1, ge=1, le=MAX_COLLECT_DIGITS)
    max_digits: int = Field(ge=1, le=MAX_COLLECT_DIGITS)
    pattern: str | None = Field(None, max_length=200)
    terminator: KeypadKey | None = "#"
    confirm: ConfirmSpec | None = None
    variable: VariableName
    next: NodeRef
    on_exit: NodeRef | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as err:
                raise ValueError(
                    f"pattern '{value}' is not a valid regular expression: {err}"
                ) from None
        return value

    @field_validator("terminator")
    @classmethod
    def _one_key(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value not in tuple(DTMF_KEYS):
            raise ValueError(f"terminator '{value}' must be one keypad key (0-9, * or #)")
        return value

    @model_validator(mode="after")
    def _digit_bounds(self) -> CollectNode:
        if self.min_digits > self.max_digits:
            raise ValueError(
                f"min_digits {self.min_digits} is more than max_digits {self.max_digits}"
            )
        return self

    def exits(self) -> list[tuple[str, str]]:
        return [("next", self.next), *_optional_exits(on_exit=self.on_exit)]

    def prompt_refs(self) -> list[tuple[str, str]]:
        confirm = self.confirm
        extra = [] if confirm is None else _refs("confirm.intro", confirm.intro)
        extra += [] if confirm is None else _refs("confirm.prompt", confirm.prompt)
        return super().prompt_refs() + extra


class LanguageNode(_Asking):
    type: Literal["language"]
    choices: dict[KeypadKey, str] = Field(min_length=1)
    next: NodeRef

    def exits(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


class HoursNode(_Node):
    type: Literal["hours"]
    schedule: str
    open: NodeRef
    closed: NodeRef

    def exits(self) -> list[tuple[str, str]]:
        return [("open", self.open), ("closed", self.closed)]


class SetNode(_Node):
    type: Literal["set"]
    variables: dict[VariableName, VariableValue] = Field(min_length=1)
    next: NodeRef

    def exits(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


class GotoNode(_Node):
    type: Literal["goto"]
    target: NodeRef

    def exits(self) -> list[tuple[str, str]]:
        return [("target", self.target)]


class HangupNode(_Node):
    ends_call: ClassVar[bool] = True
    type: Literal["hangup"]
    prompt: OptionalPromptIds = ()
    result: Slug = "completed"

    def prompt_refs(self) -> list[tuple[str, str]]:
        return _refs("prompt", self.prompt)


class HandoffNode(_Node):
    """An extension point: the adapter registered for `type` runs it and names an outcome."""

    waits_for_input: ClassVar[bool] = True
    ends_call: ClassVar[bool] = True
    type: str
    params: dict[str, Param] = {}
    on: dict[str, NodeRef] = {}

    def exits(self) -> list[tuple[str, str]]:
        return [(f"outcome '{name}'", target) for name, target in self.on.items()]


def _node_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind in BUILTIN_NODE_TYPES:
        return str(kind)
    # Read at validation time so kinds registered after import are accepted.
    return HANDOFF_TAG if isinstance(kind, str) and kind in HANDOFF_OUTCOMES else None


Node = Annotated[
    Annotated[PlayNode, Tag("play")]
    | Annotated[MenuNode, Tag("menu")]
    | Annotated[CollectNode, Tag("collect")]
    | Annotated[HoursNode, Tag("hours")]
    | Annotated[SetNode, Tag("set")]
    | Annotated[LanguageNode, Tag("language")]
    | Annotated[GotoNode, Tag("goto")]
    | Annotated[HangupNode, Tag("hangup")]
    | Annotated[HandoffNode, Tag(HANDOFF_TAG)],
    Discriminator(_node_tag, custom_error_type="node_type", custom_error_message="bad node type"),
]
AnyNode = (
    PlayNode
    | MenuNode
    | CollectNode
    | HoursNode
    | SetNode
    | LanguageNode
    | GotoNode
    | HangupNode
    | HandoffNode
)


class Flow(_Strict):
    """One IVR flow: what callers hear and which keys take them where."""

    id: Slug
    version: int = Field(1, ge=1)
    description: str = ""
    languages: tuple[LanguageCode, ...] = Field(min_length=1)
    default_language: LanguageCode
    timezone: str = DEFAULT_TIMEZONE
    start: NodeRef
    operator: NodeRef
    prompts: dict[Slug, dict[LanguageCode, PromptText]] = {}
    schedules: dict[Slug, Schedule] = {}
    queues: dict[QueueName, QueueSettings] = {}
    nodes: dict[Slug, Node] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value)

    def node(self, node_id: str) -> AnyNode | None:
        """The node with this id, or None (only possible in a flow that skipped validation)."""
        found: AnyNode | None = self.nodes.get(node_id)
        return found

    def queue_settings(self, queue: str) -> QueueSettings:
        """A queue's settings; a queue the flow doesn't configure gets the defaults."""
        return self.queues.get(queue, DEFAULT_QUEUE_SETTINGS)

    def schedule_timezone(self, schedule: Schedule) -> str:
        """A schedule's own zone, else the flow's."""
        return schedule.timezone or self.timezone
