"""The back office's consumer of the call-event stream: every finished call becomes an order.

Group `backoffice` on the call-event stream, so calls made while the back office is down wait
in the stream and are taken in when it is back. Delivery is at least once; the work-order
service returns the existing order for a call id it has seen, so a re-delivered event never
makes a second order. An event the service refuses (an oversized call id, say) can't get
better by retrying and goes straight to the dead letters; a database that is down leaves the
event pending, to be retried with backoff.
"""

from __future__ import annotations

import logging
import threading

import redis
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backoffice.domain.call_intake import intake
from backoffice.errors import Invalid
from backoffice.services import call_stats, work_orders
from backoffice.services.work_orders import WorkOrderConfig
from hotline.callevents.model import CallEvent, CallEventType, MalformedEvent
from hotline.callevents.stream import RetryPolicy, StreamConsumer, consumer_name
from hotline.logs import event

log = logging.getLogger("hotline.backoffice")

GROUP = "backoffice"


class OrderIntake:
    """Handles one call event: `ended` -> the call's work order (once)."""

    def __init__(self, engine: Engine, config: WorkOrderConfig) -> None:
        self.engine = engine
        self.config = config

    def __call__(self, ev: CallEvent) -> None:
        if ev.type is not CallEventType.ENDED:
            return
        taken = intake(ev.call_id, ev.data)
        with Session(self.engine) as session:
            try:
                creation = work_orders.take_call(
                    session, taken.as_call_event(), config=self.config
                )
            except Invalid as exc:
                raise MalformedEvent(str(exc)) from None
            order = creation.order
            event(log, "intake.order", call_id=ev.call_id, number=order.number,
                  new=creation.created, category=order.category.value)  # fmt: skip
        self._keep_figures(ev)

    def _keep_figures(self, ev: CallEvent) -> None:
        """The call's figures for the reports; a payload they can't count still made its order."""
        with Session(self.engine) as session:
            try:
                call_stats.record(session, ev.call_id, ev.data)
            except Invalid as exc:
                event(log, "intake.figures_refused", level=logging.WARNING,
                      call_id=ev.call_id[:128], error=str(exc))  # fmt: skip


def run_intake(
    client: redis.Redis,
    engine: Engine,
    config: WorkOrderConfig,
    stop: threading.Event,
    retry: RetryPolicy | None = None,
) -> None:
    consumer = StreamConsumer(client, GROUP, consumer_name("intake"), retry=retry)
    consumer.ensure_group()
    event(log, "intake.ready", consumer=consumer.consumer)
    consumer.run(OrderIntake(engine, config), stop)
