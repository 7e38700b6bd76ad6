"""The back office's tables and the request/response models built on them."""

from backoffice.models.audit import AuditAction, AuditLog, AuditLogPublic
from backoffice.models.base import BackofficeModel, UTCDateTime, utcnow
from backoffice.models.call_stats import CallStat
from backoffice.models.org import OrgLevel, OrgUnit, OrgUnitCreate, OrgUnitPublic
from backoffice.models.transcripts import CallTranscript
from backoffice.models.users import (
    ApiToken,
    TokenPublic,
    User,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from backoffice.models.work_orders import (
    ActionRequest,
    CallEvent,
    Channel,
    OrderSequence,
    Outcome,
    WebOrderCreate,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderEvent,
    WorkOrderEventPublic,
    WorkOrderListItem,
    WorkOrderPage,
    WorkOrderPublic,
    WorkOrderUpdate,
)

metadata = BackofficeModel.metadata

__all__ = [
    "ActionRequest",
    "ApiToken",
    "AuditAction",
    "AuditLog",
    "AuditLogPublic",
    "BackofficeModel",
    "CallEvent",
    "CallStat",
    "CallTranscript",
    "Channel",
    "OrderSequence",
    "OrgLevel",
    "OrgUnit",
    "OrgUnitCreate",
    "OrgUnitPublic",
    "Outcome",
    "TokenPublic",
    "UTCDateTime",
    "User",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
    "WebOrderCreate",
    "WorkOrder",
    "WorkOrderCreate",
    "WorkOrderEvent",
    "WorkOrderEventPublic",
    "WorkOrderListItem",
    "WorkOrderPage",
    "WorkOrderPublic",
    "WorkOrderUpdate",
    "metadata",
    "utcnow",
]
