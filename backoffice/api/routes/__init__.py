"""One router per resource, gathered under /api/v1."""

from fastapi import APIRouter

from backoffice.api.errors import ERROR_RESPONSES
from backoffice.api.routes import (
    audit_log,
    auth,
    calls,
    dead_letters,
    order_export,
    org_units,
    public,
    seats,
    users,
    work_orders,
)

api_router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
for module in (
    auth, users, org_units, order_export, work_orders, public, audit_log, dead_letters,
    seats, calls,
):  # fmt: skip
    api_router.include_router(module.router)
