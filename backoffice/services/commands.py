"""Turning the body of POST /work-orders/{id}/actions/{action} into a lifecycle command."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from backoffice.domain import lifecycle as lc
from backoffice.errors import Invalid
from backoffice.models import ActionRequest, Outcome

COMMANDS: Mapping[lc.Action, type[lc.Command]] = {
    cls.ACTION: cls
    for cls in (
        lc.Dispatch,
        lc.Redispatch,
        lc.Sign,
        lc.StartHandling,
        lc.Reply,
        lc.ReturnOrder,
        lc.RecordFeedback,
        lc.ReturnVisit,
        lc.Close,
        lc.Reopen,
        lc.RequestExtension,
        lc.ApproveExtension,
        lc.RejectExtension,
        lc.Remind,
        lc.Supervise,
        lc.MarkUrgent,
    )
}

# Fields of the request that are not the command's own but go with it.
_EXTRAS: Mapping[lc.Action, frozenset[str]] = {
    lc.Action.DISPATCH: frozenset({"assignee_id"}),
    lc.Action.REDISPATCH: frozenset({"assignee_id"}),
    lc.Action.REPLY: frozenset({"outcome", "wages_recovered"}),
}


@dataclass(frozen=True)
class Extras:
    """What an action records beyond the lifecycle: who takes it over, how it ended."""

    assignee_id: int | None = None
    outcome: Outcome | None = None
    wages_recovered: Decimal | None = None


def command_for(
    action: lc.Action, body: ActionRequest, proposed_org_unit_id: int | None = None
) -> tuple[lc.Command, Extras]:
    """The command and extras for ``action``; Invalid names a field it does not take or lacks.

    A first dispatch without org_unit_id goes to the unit proposed when the order came in.
    """
    cls = COMMANDS[action]
    own = {f.name for f in dataclasses.fields(cls)}
    given = body.model_dump(exclude_unset=True)
    if action is lc.Action.DISPATCH and given.get("org_unit_id") is None:
        given["org_unit_id"] = proposed_org_unit_id
    unknown = sorted(set(given) - own - _EXTRAS.get(action, frozenset()))
    if unknown:
        raise Invalid(f"{action} does not take {', '.join(unknown)}")
    try:
        command = cls(**{name: value for name, value in given.items() if name in own})
    except TypeError as exc:  # a required field was left out
        missing = sorted(own - set(given))
        raise Invalid(f"{action} needs {', '.join(missing)}") from exc
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    return command, _extras(action, body)


def _extras(action: lc.Action, body: ActionRequest) -> Extras:
    if body.wages_recovered is not None and body.outcome is not Outcome.WAGES_RECOVERED:
        raise Invalid("wages_recovered goes with outcome wages_recovered")
    if body.outcome is Outcome.WAGES_RECOVERED and body.wages_recovered is None:
        raise Invalid("outcome wages_recovered needs the amount in wages_recovered")
    return Extras(body.assignee_id, body.outcome, body.wages_recovered)
