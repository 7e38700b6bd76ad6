"""A flow drawn as a graph: flow model -> layered layout -> SVG text. Pure, no I/O.

Layers are the shortest number of steps from the start node, so a caller's journey reads
left to right; nodes the start can't reach go in a last column. Edges back to an earlier
column (a menu's "back to the main menu") curve below the boxes so they don't cross them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from html import escape

from ivr.flow.model import Flow, HandoffNode
from ivr.flow.validate import node_exits

BOX_W, BOX_H = 168, 40
COL_GAP, ROW_GAP = 84, 26
MARGIN = 24
MISSING = "missing"

# Fill per node type; handoffs (queue, callback, ...) share one colour.
COLOURS: Mapping[str, str] = {
    "play": "#dbeafe",
    "menu": "#fde68a",
    "collect": "#fed7aa",
    "language": "#e9d5ff",
    "hours": "#bbf7d0",
    "set": "#e5e7eb",
    "goto": "#e5e7eb",
    "hangup": "#fecaca",
    "handoff": "#a5f3fc",
    MISSING: "#ffffff",
}


@dataclass(frozen=True)
class Box:
    node: str
    kind: str
    column: int
    row: int

    @property
    def x(self) -> int:
        return MARGIN + self.column * (BOX_W + COL_GAP)

    @property
    def y(self) -> int:
        return MARGIN + self.row * (BOX_H + ROW_GAP)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    edges: tuple[Edge, ...]
    width: int
    height: int


def edge_label(name: str) -> str:
    """The short text on an edge: the key pressed or the outcome; nothing for plain 'next'."""
    if name.startswith(("choice '", "outcome '", "key '")):
        return name.split("'")[1]
    return "" if name in ("next", "target") else name


def _kind(flow: Flow, node_id: str) -> str:
    node = flow.node(node_id)
    if node is None:
        return MISSING
    return "handoff" if isinstance(node, HandoffNode) else node.type


def _edges(flow: Flow) -> list[Edge]:
    return [
        Edge(node_id, target, edge_label(name))
        for node_id, node in flow.nodes.items()
        for name, target in node_exits(flow, node)
    ]


def _columns(flow: Flow, edges: Sequence[Edge]) -> dict[str, int]:
    onward: dict[str, list[str]] = {}
    for edge in edges:
        onward.setdefault(edge.source, []).append(edge.target)
    column: dict[str, int] = {}
    todo = deque([flow.start]) if flow.start in flow.nodes else deque()
    if todo:
        column[flow.start] = 0
    while todo:
        current = todo.popleft()
        for target in onward.get(current, []):
            if target not in column:
                column[target] = column[current] + 1
                todo.append(target)
    last = max(column.values(), default=-1) + 1
    for node_id in flow.nodes:
        column.setdefault(node_id, last)
    for edge in edges:  # a ghost box for each target that is not a node
        column.setdefault(edge.target, column[edge.source] + 1)
    return column


def _rows(
    columns: Mapping[str, int], edges: Sequence[Edge], order: Mapping[str, int]
) -> dict[str, int]:
    """Rows per column: each node near the mean row of the nodes that lead to it (fewer
    crossings), the file's order breaking ties."""
    parents: dict[str, list[str]] = {}
    for edge in edges:
        if columns[edge.source] < columns[edge.target]:
            parents.setdefault(edge.target, []).append(edge.source)
    rows: dict[str, int] = {}
    for col in sorted(set(columns.values())):
        members = [n for n in columns if columns[n] == col]

        def weight(node: str) -> tuple[float, int]:
            placed = [rows[p] for p in parents.get(node, []) if p in rows]
            return (sum(placed) / len(placed) if placed else float("inf"), order[node])

        for row, node in enumerate(sorted(members, key=weight)):
            rows[node] = row
    return rows


def layout(flow: Flow) -> Layout:
    """Columns by distance from start, rows near the nodes that lead there."""
    edges = _edges(flow)
    columns = _columns(flow, edges)
    order = {node_id: index for index, node_id in enumerate([*flow.nodes, *columns])}
    rows = _rows(columns, edges, order)
    boxes = {
        n: Box(n, _kind(flow, n), columns[n], rows[n])
        for n in sorted(columns, key=order.__getitem__)
    }
    width = MARGIN * 2 + (max(columns.values()) + 1) * (BOX_W + COL_GAP) - COL_GAP
    height = MARGIN * 2 + (max(rows.values()) + 1) * (BOX_H + ROW_GAP) - ROW_GAP + 40
    return Layout(boxes, tuple(edges), width, height)


def _edge_path(a: Box, b: Box, lane: int, nth: int = 0) -> tuple[str, float, float]:
    """SVG path and label position; backward edges loop under the boxes."""
    if b.column > a.column:
        x1, y1 = float(a.x + BOX_W), a.y + BOX_H / 2
        x2, y2 = float(b.x), b.y + BOX_H / 2
        mid = (x1 + x2) / 2
        path = f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        # Labels near the source, staggered along the curves so a node's labels don't stack.
        t = 0.2 + 0.15 * (nth % 5)
        lx = (1 - t) ** 3 * x1 + 3 * (1 - t) ** 2 * t * mid + 3 * (1 - t) * t**2 * mid + t**3 * x2
        ly = (1 - t) ** 3 * y1 + 3 * (1 - t) ** 2 * t * y1 + 3 * (1 - t) * t**2 * y2 + t**3 * y2
        return path, lx + 6, ly - 3
    x1, y1 = a.x + BOX_W / 2, float(a.y + BOX_H)
    x2, y2 = b.x + BOX_W / 2, float(b.y + BOX_H)
    dip = max(y1, y2) + 14 + 6 * lane
    path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{dip:.0f} {x2:.0f},{dip:.0f} {x2:.0f},{y2:.0f}"
    return path, (x1 + x2) / 2, dip - 2


def _box_svg(box: Box, problems: Sequence[str], mark: str = "") -> str:
    classes = f"node node-{box.kind}" + (" has-issue" if problems else "") + mark
    stroke = "#b3261e" if problems or box.kind == MISSING else "#475569"
    stroke = "#1a4fa0" if mark == " current" else stroke
    width = 3 if problems or mark == " current" else 1
    dash = ' stroke-dasharray="5 3"' if box.kind == MISSING else ""
    tip = escape("\n".join([f"{box.node} ({box.kind})", *problems]))
    badge = ""
    if problems:
        badge = (
            f'<circle cx="{box.x + BOX_W - 4}" cy="{box.y + 4}" r="9" fill="#b3261e"/>'
            f'<text class="badge" x="{box.x + BOX_W - 4}" y="{box.y + 8}" fill="#fff" '
            f'text-anchor="middle" font-size="12" font-weight="700">{len(problems)}</text>'
        )
    return (
        f'<g class="{classes}" id="graph-node-{escape(box.node)}" data-node="{escape(box.node)}" '
        f'data-type="{box.kind}"><title>{tip}</title>'
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
        f'fill="{COLOURS.get(box.kind, "#ffffff")}" stroke="{stroke}" '
        f'stroke-width="{width}"{dash}/>'
        f'<text x="{box.x + 8}" y="{box.y + 17}" font-size="12" font-weight="600">'
        f"{escape(_short(box.node))}</text>"
        f'<text x="{box.x + 8}" y="{box.y + 32}" font-size="10" fill="#475569">{box.kind}</text>'
        f"{badge}</g>"
    )


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _edge_svg(edge: Edge, boxes: Mapping[str, Box], lane: int, nth: int) -> str:
    a, b = boxes[edge.source], boxes[edge.target]
    path, lx, ly = _edge_path(a, b, lane, nth)
    broken = b.kind == MISSING
    colour = "#b3261e" if broken else "#64748b"
    marker = "url(#arrow-bad)" if broken else "url(#arrow)"
    label = ""
    if edge.label:
        label = (
            f'<text class="edge-label" x="{lx:.0f}" y="{ly:.0f}" font-size="11" '
            f'text-anchor="middle" fill="{colour}">{escape(edge.label)}</text>'
        )
    return (
        f'<g class="edge" data-from="{escape(edge.source)}" data-to="{escape(edge.target)}" '
        f'data-label="{escape(edge.label)}"><path d="{path}" fill="none" stroke="{colour}" '
        f'stroke-width="1.2" marker-end="{marker}"/>{label}</g>'
    )


_DEFS = (
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/>'
    '</marker><marker id="arrow-bad" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#b3261e"/>'
    "</marker></defs>"
)


def _legend(y: int) -> str:
    items = []
    for index, (kind, colour) in enumerate(COLOURS.items()):
        x = MARGIN + index * 92
        items.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{colour}" stroke="#475569"/>'
            f'<text x="{x + 18}" y="{y + 12}" font-size="11">{kind}</text>'
        )
    return f'<g class="legend">{"".join(items)}</g>'


def _mark(node: str, current: str | None, visited: Set[str]) -> str:
    return " current" if node == current else " visited" if node in visited else ""


def flow_svg(
    flow: Flow,
    problems: Mapping[str, Sequence[str]] | None = None,
    *,
    current: str | None = None,
    visited: Set[str] = frozenset(),
) -> str:
    """The flow as a standalone SVG document; nodes with problems are outlined in red, a
    walk's current node in blue and the nodes it passed are marked `visited`."""
    plan = layout(flow)
    problems = problems or {}
    lanes: dict[str, int] = {}
    labelled: dict[str, int] = {}
    edges = []
    for edge in plan.edges:
        lane = lanes.get(edge.target, 0)
        lanes[edge.target] = lane + 1
        nth = labelled.get(edge.source, 0)
        labelled[edge.source] = nth + bool(edge.label)
        edges.append(_edge_svg(edge, plan.boxes, lane, nth))
    boxes = [
        _box_svg(box, problems.get(box.node, ()), _mark(box.node, current, visited))
        for box in plan.boxes.values()
    ]
    width = max(plan.width, MARGIN * 2 + len(COLOURS) * 92)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph" width="{width}" '
        f'height="{plan.height}" viewBox="0 0 {width} {plan.height}" role="img" '
        f'aria-label="{escape(flow.id)}" font-family="sans-serif">{_DEFS}'
        '<rect class="paper" width="100%" height="100%" fill="#ffffff"/>'
        f"{''.join(edges)}{''.join(boxes)}{_legend(plan.height - 30)}</svg>"
    )
