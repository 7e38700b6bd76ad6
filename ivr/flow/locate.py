"""Where a flow's problems are in its YAML: each validator issue tied to a node and a line.

The editor shows every message next to the node it is about and at the line to change, so
the admin never has to search the file. Pure: text and issues in, located issues out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from ivr.flow.validate import FlowIssue, _FlowLoader

_YAML_LINE = re.compile(r"at line (\d+)")
_QUOTED = re.compile(r"'([^']*)'")
# Flow-wide messages name their owner first: "prompt 'x' ...", "schedule 'y': ...".
_OWNERS = (("prompt ", "prompts"), ("schedule ", "schedules"))
_TOP_FIELDS = ("start", "operator", "default_language", "languages", "timezone", "id")


@dataclass(frozen=True)
class LocatedIssue:
    """A validator message with the node it belongs to and its 1-based YAML line (if known)."""

    node: str | None
    problem: str
    line: int | None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{FlowIssue(self.node, self.problem)}"


@dataclass(frozen=True)
class NodeLines:
    """Lines of one node: where its id is written and where each of its fields starts."""

    line: int
    fields: dict[str, int]
    children: dict[str, dict[str, int]]  # field -> key -> line, e.g. choices -> '1' -> 42


@dataclass(frozen=True)
class FlowLines:
    """Line numbers of a flow file's top-level keys, its nodes, prompts and schedules."""

    top: dict[str, int]
    nodes: dict[str, NodeLines]
    sections: dict[str, dict[str, int]]  # prompts / schedules -> id -> line


def _key_lines(node: yaml.Node) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): key.start_mark.line + 1 for key, _ in node.value}


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == key:
                found: yaml.Node = v
                return found
    return None


def _node_lines(key: yaml.Node, value: yaml.Node) -> NodeLines:
    fields = _key_lines(value)
    children = {
        field: _key_lines(child)
        for field in fields
        if (child := _child(value, field)) is not None and isinstance(child, yaml.MappingNode)
    }
    return NodeLines(key.start_mark.line + 1, fields, children)


def flow_lines(text: str) -> FlowLines:
    """The line map of a flow file; empty if the YAML does not even compose."""
    try:
        root = yaml.compose(text, Loader=_FlowLoader)
    except yaml.YAMLError:
        return FlowLines({}, {}, {})
    if not isinstance(root, yaml.MappingNode):
        return FlowLines({}, {}, {})
    nodes_map = _child(root, "nodes")
    nodes: dict[str, NodeLines] = {}
    if isinstance(nodes_map, yaml.MappingNode):
        nodes = {str(k.value): _node_lines(k, v) for k, v in nodes_map.value}
    sections = {
        name: _key_lines(section)
        for name in ("prompts", "schedules")
        if (section := _child(root, name)) is not None
    }
    return FlowLines(_key_lines(root), nodes, sections)


def _node_issue_line(lines: NodeLines, problem: str) -> int:
    """The field line a message is about, else the node's own line."""
    quoted = _QUOTED.search(problem)
    for field, word in (("choices", "choice "), ("on", "outcome ")):
        if problem.startswith(word) and quoted and field in lines.children:
            return lines.children[field].get(quoted[1], lines.fields.get(field, lines.line))
    head = re.split(r"[\s.:\[]", problem, maxsplit=1)[0]
    if head in lines.fields:
        return lines.fields[head]
    if "node type" in problem and "type" in lines.fields:
        return lines.fields["type"]
    named = re.search(r"field '([^']+)'", problem)
    if named and named[1] in lines.fields:
        return lines.fields[named[1]]
    return lines.line


def _flow_issue_line(lines: FlowLines, problem: str) -> int | None:
    match = _YAML_LINE.search(problem)
    if problem.startswith("malformed YAML") and match:
        return int(match[1])
    quoted = _QUOTED.search(problem)
    for word, section in _OWNERS:
        if problem.startswith(word) and quoted:
            found = lines.sections.get(section, {}).get(quoted[1])
            if found is not None:
                return found
    head = re.split(r"[\s.:\[]", problem, maxsplit=1)[0]
    if head in _TOP_FIELDS or head in lines.top:
        return lines.top.get(head)
    return None


def locate(text: str, issues: list[FlowIssue]) -> list[LocatedIssue]:
    """Every issue with its line: the field inside the node where one is named."""
    lines = flow_lines(text)
    located = []
    for issue in issues:
        node_lines = lines.nodes.get(issue.node) if issue.node is not None else None
        if node_lines is not None:
            line: int | None = _node_issue_line(node_lines, issue.problem)
        else:
            line = _flow_issue_line(lines, issue.problem)
        located.append(LocatedIssue(issue.node, issue.problem, line))
    return located


def scalar_span(text: str, path: tuple[str, ...]) -> tuple[int, int] | None:
    """Where the scalar at `path` (mapping keys from the top) is written: character offsets."""
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_FlowLoader)
    except yaml.YAMLError:
        return None
    for key in path:
        node = _child(node, key) if node is not None else None
    if not isinstance(node, yaml.ScalarNode):
        return None
    return node.start_mark.index, node.end_mark.index
