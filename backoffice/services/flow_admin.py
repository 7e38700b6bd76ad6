"""The flow editor's service: review a draft (issues at nodes and lines, outline, graph),
list stored flows, publish and roll back through the IVR's own publishing path."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from ivr import flowstore
from ivr.flow import Flow, FlowIssue, validate_flow_text
from ivr.flow.graph import flow_svg
from ivr.flow.locate import LocatedIssue, flow_lines, locate, scalar_span
from ivr.flow.validate import parse_flow_yaml
from ivr.flowstore import FlowVersion
from ivr.prompts import PromptError
from ivr.publishing import packaged_flow_text, publish_flow

MAX_FLOW_CHARS = 200_000  # a large flow is ~15 kB; this is far beyond any hand-written one


@dataclass(frozen=True)
class OutlineNode:
    """One node of the draft as written, even when the schema refuses it."""

    node: str
    type: str
    line: int | None
    issues: tuple[LocatedIssue, ...]


@dataclass(frozen=True)
class Review:
    """Everything the editor shows about a draft."""

    text: str
    flow: Flow | None  # the model, when the schema accepts it (issues may remain)
    issues: tuple[LocatedIssue, ...]
    outline: tuple[OutlineNode, ...]
    general: tuple[LocatedIssue, ...]  # issues not about one node
    svg: str | None
    lines: Mapping[int, tuple[LocatedIssue, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.issues


def _model(data: Any) -> Flow | None:
    if not isinstance(data, Mapping):
        return None
    try:
        return Flow.model_validate(dict(data))
    except ValidationError:
        return None


def _raw_nodes(data: Any) -> dict[str, str]:
    nodes = data.get("nodes") if isinstance(data, Mapping) else None
    if not isinstance(nodes, Mapping):
        return {}
    return {str(k): str(v.get("type", "?")) if isinstance(v, Mapping) else "?"
            for k, v in nodes.items()}  # fmt: skip


def normalize(text: str) -> str:
    """Browsers send a textarea with CRLF line ends; the stored flow keeps the file's LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def review(text: str, expected_id: str | None = None) -> Review:
    """Validate a draft and tie every message to its node and line (pure)."""
    text = normalize(text)
    if len(text) > MAX_FLOW_CHARS:
        too_big = FlowIssue(None, f"the flow is {len(text)} characters; at most {MAX_FLOW_CHARS}")
        issue = LocatedIssue(None, too_big.problem, None)
        return Review(text, None, (issue,), (), (issue,), None)
    flow_ok, issues = validate_flow_text(text)
    data, _ = parse_flow_yaml(text)
    model = flow_ok or _model(data)
    if expected_id is not None and model is not None and model.id != expected_id:
        issues = [FlowIssue(None, f"id '{model.id}' must stay '{expected_id}' (this flow's name)"),
                  *issues]  # fmt: skip
    located = tuple(locate(text, issues))
    lines = flow_lines(text)
    outline = tuple(
        OutlineNode(
            node,
            kind,
            lines.nodes[node].line if node in lines.nodes else None,
            tuple(i for i in located if i.node == node),
        )
        for node, kind in _raw_nodes(data).items()
    )
    by_node: dict[str, list[str]] = {}
    for issue in located:
        if issue.node is not None:
            by_node.setdefault(issue.node, []).append(issue.problem)
    by_line: dict[int, list[LocatedIssue]] = {}
    for issue in located:
        if issue.line is not None:
            by_line.setdefault(issue.line, []).append(issue)
    return Review(
        text=text,
        flow=model,
        issues=located,
        outline=outline,
        general=tuple(i for i in located if i.node is None or i.node not in lines.nodes),
        svg=flow_svg(model, by_node) if model is not None else None,
        lines={line: tuple(found) for line, found in by_line.items()},
    )


# -- the store -------------------------------------------------------------------------------


def ensure_tables(engine: Engine) -> None:
    """The IVR's flow_version table (the IVR creates it too; the web app may start first)."""
    table = SQLModel.metadata.tables[FlowVersion.__tablename__]
    SQLModel.metadata.create_all(engine, tables=[table])


def packaged_names() -> list[str]:
    folder = resources.files("ivr").joinpath("flows")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))  # fmt: skip


@dataclass(frozen=True)
class FlowSummary:
    name: str
    active: FlowVersion | None
    versions: int
    latest: FlowVersion | None
    history: tuple[FlowVersion, ...] = ()  # newest first


def summaries(engine: Engine) -> list[FlowSummary]:
    """Every flow that is stored or shipped, with its live version."""
    with Session(engine) as session:
        stored = set(session.exec(select(FlowVersion.flow_id).distinct()).all())
    found = []
    for name in sorted(stored | set(packaged_names())):
        history = flowstore.versions(engine, name)
        live = next((v for v in history if v.is_active), None)
        latest = history[-1] if history else None
        found.append(FlowSummary(name, live, len(history), latest, tuple(reversed(history))))
    return found


def draft_text(engine: Engine, name: str, version: int | None) -> str | None:
    """The YAML to open in the editor: a chosen version, the live one, else the shipped file."""
    if version is not None:
        return flowstore.get(engine, name, version).yaml
    live = flowstore.active(engine, name)
    if live is not None:
        return live.yaml
    try:
        return packaged_flow_text(name)
    except FileNotFoundError:
        return None


def history(engine: Engine, name: str) -> list[FlowVersion]:
    """Newest first, for the editor's history table."""
    with Session(engine, expire_on_commit=False) as session:
        query = (
            select(FlowVersion)
            .where(FlowVersion.flow_id == name)
            .order_by(col(FlowVersion.version).desc())
        )
        return list(session.exec(query).all())


class PublishRefused(Exception):
    """The draft can't go live; `review` holds the draft and every reason."""

    def __init__(self, found: Review) -> None:
        super().__init__(f"{len(found.issues)} problem(s)")
        self.review = found


def publish(engine: Engine, recordings_dir: Path, name: str, text: str, by: str) -> FlowVersion:
    """Validate, render prompts, store: the FastAGI server's cache takes it for the next call."""
    text = normalize(text)
    found = review(text, expected_id=name)
    if not found.ok:
        raise PublishRefused(found)
    try:
        return publish_flow(engine, recordings_dir, text, by)
    except PromptError as exc:
        issue = LocatedIssue(None, f"prompts could not be rendered: {exc}", None)
        raise PublishRefused(
            Review(text, found.flow, (issue,), found.outline, (issue,), found.svg)
        ) from exc


# -- the prompt form ---------------------------------------------------------------------------


class NoSuchPrompt(ValueError):
    """The draft has no text for that prompt and language."""


def set_prompt_text(text: str, prompt_id: str, language: str, new_text: str) -> str:
    """The draft with one prompt's text replaced, everything else (comments too) untouched.

    The new text is written as a JSON string, which YAML reads as a double-quoted scalar.
    """
    text = normalize(text)
    span = scalar_span(text, ("prompts", prompt_id, language))
    if span is None:
        raise NoSuchPrompt(f"the draft has no '{language}' text for prompt '{prompt_id}'")
    start, end = span
    quoted = json.dumps(" ".join(new_text.split()), ensure_ascii=False)
    tail = "\n" if text[start:end].endswith("\n") else ""
    return text[:start] + quoted + tail + text[end:]
