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
# Work orders first: a request is matched against the routes in turn, and the order lists
# and details are most of the traffic. No two routers' paths overlap.
for module in (
    work_orders, order_export, auth, users, org_units, public, audit_log, dead_letters,
    seats, calls,
):  # fmt: skip
    api_router.include_router(module.router)
