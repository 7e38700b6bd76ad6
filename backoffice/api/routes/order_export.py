"""The filtered order list as a CSV file for Excel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from backoffice.api.deps import BackofficeDep, CurrentUser
from backoffice.api.routes.work_orders import OrderQuery
from backoffice.services import order_export

router = APIRouter(tags=["work orders"])
CSV = "text/csv; charset=utf-8"


@router.get(
    "/work-orders.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "the orders, as CSV"}},
)
def export_orders(
    user: CurrentUser,
    backoffice: BackofficeDep,
    query: Annotated[OrderQuery, Query()],
    lang: Annotated[Literal["zh", "en"], Query(description="language of the header row")] = "zh",
) -> StreamingResponse:
    """Every order the list would show with the same filters and `q`, newest first: UTF-8 with
    a BOM (Excel), numbers masked as for this user, formula-looking cells defused with `'`."""
    chunks = order_export.export(
        backoffice.engine, user, query.filters(), tz=backoffice.settings.timezone, lang=lang
    )
    stamp = datetime.now(ZoneInfo(backoffice.settings.timezone)).strftime("%Y%m%d-%H%M")
    disposition = f'attachment; filename="work-orders-{stamp}.csv"'
    return StreamingResponse(chunks, media_type=CSV, headers={"Content-Disposition": disposition})
