"""The report's figures as tables: one layout for the page and for CSV export.

A column has a kind that says how its values are written (a count, a rate as a percentage,
seconds); headers are catalogue keys (`reports.col.<name>`) the page translates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hotline.reports.figures import Report, Tally
from hotline.reports.staffing import Staffing

Cell = str | int | float | None
TABLES = ("hourly", "daily", "queues", "agents", "staffing")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"  # so a spreadsheet opens the UTF-8 file as UTF-8 (Chinese names)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str  # text, count, rate, seconds, number


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]


def _c(name: str, kind: str) -> Column:
    return Column(name, kind)


_LOAD = (
    _c("calls", "count"),
    _c("offered", "count"),
    _c("answered", "count"),
    _c("abandoned", "count"),
    _c("connection_rate", "rate"),
    _c("sl_15", "rate"),
    _c("sl_20", "rate"),
    _c("abandon_rate", "rate"),
    _c("asa_s", "seconds"),
    _c("aht_s", "seconds"),
)


def _load(tally: Tally) -> tuple[Cell, ...]:
    return (
        tally.calls,
        tally.offered,
        tally.answered,
        tally.abandoned,
        tally.connection_rate,
        tally.service_level(15),
        tally.service_level(20),
        tally.abandon_rate,
        tally.average_answer_s,
        tally.average_handle_s,
    )


def hourly(report: Report) -> Table:
    rows = [(f"{h:02d}:00", *_load(t)) for h, t in enumerate(report.by_hour)]
    return Table("hourly", (_c("hour", "text"), *_LOAD), rows)


def daily(report: Report) -> Table:
    rows = [(day.isoformat(), *_load(t)) for day, t in report.by_day.items()]
    return Table("daily", (_c("day", "text"), *_LOAD), rows)


def queues(report: Report) -> Table:
    rows = [(name, *_load(t)[1:]) for name, t in report.by_queue.items()]
    return Table("queues", (_c("queue", "text"), *_LOAD[1:]), rows)


def agents(report: Report) -> Table:
    answered = report.total.answered
    rows: list[tuple[Cell, ...]] = [
        (
            name,
            t.answered,
            t.answered / answered if answered else None,
            t.average_answer_s,
            t.average_talk_s,
            t.average_handle_s,
        )
        for name, t in report.by_agent.items()
    ]
    columns = (
        _c("agent", "text"),
        _c("answered", "count"),
        _c("share", "rate"),
        _c("asa_s", "seconds"),
        _c("talk_s", "seconds"),
        _c("aht_s", "seconds"),
    )
    return Table("agents", columns, rows)


def staffing(plan: Sequence[Staffing]) -> Table:
    rows: list[tuple[Cell, ...]] = [
        (f"{h:02d}:00", s.calls, s.aht_s, s.seats, s.raw_seats, s.service_level, s.occupancy)
        for h, s in enumerate(plan)
    ]
    columns = (
        _c("hour", "text"),
        _c("calls_per_hour", "number"),
        _c("aht_s", "seconds"),
        _c("seats", "count"),
        _c("raw_seats", "count"),
        _c("expected_sl", "rate"),
        _c("occupancy", "rate"),
    )
    return Table("staffing", columns, rows)


def cell_text(kind: str, value: Cell) -> str:
    """How a value reads on the page and in CSV; no figure is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind in ("seconds", "number"):
        return f"{value:.1f}"
    return str(value)


def safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets an apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def to_csv(table: Table, header: Callable[[str], str]) -> str:
    """UTF-8 CSV text with a byte-order mark; `header` translates a column name."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(header(c.name)) for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [safe_cell(cell_text(c.kind, v)) for c, v in zip(table.columns, row, strict=True)]
        )
    return out.getvalue()
