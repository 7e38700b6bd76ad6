"""`hotline flow validate|publish|activate|versions`: the voice menu as data."""

from __future__ import annotations

import argparse
from pathlib import Path

from hotline import bootstrap
from hotline.errors import HotlineError
from hotline.settings import load_settings
from ivr import flowstore
from ivr.flow import FlowInvalid, load_flow
from ivr.publishing import publish_flow


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("flow", help="validate, publish and roll back IVR flows")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    validate = actions.add_parser("validate", help="check a flow file; exit 1 naming each problem")
    validate.add_argument("path", type=Path)
    validate.set_defaults(run=_validate)
    publish = actions.add_parser("publish", help="validate, render prompts, store a new version")
    publish.add_argument("path", type=Path)
    publish.add_argument("--by", default="cli")
    publish.set_defaults(run=_publish)
    activate = actions.add_parser("activate", help="make an earlier version live (rollback)")
    activate.add_argument("flow_id")
    activate.add_argument("version", type=int)
    activate.set_defaults(run=_activate)
    versions = actions.add_parser("versions", help="list the stored versions of a flow")
    versions.add_argument("flow_id")
    versions.set_defaults(run=_versions)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HotlineError(f"can't read flow file {path}: {exc}") from None


def _validate(args: argparse.Namespace) -> int:
    try:
        flow = load_flow(_read(args.path))
    except FlowInvalid as exc:
        return _report(args.path, exc)
    print(f"{args.path}: flow '{flow.id}' is valid ({len(flow.nodes)} nodes)")
    return 0


def _publish(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        version = publish_flow(
            bootstrap.database(settings), settings.recordings_dir, _read(args.path), args.by
        )
    except FlowInvalid as exc:
        return _report(args.path, exc)
    print(f"flow '{version.flow_id}' version {version.version} is live")
    return 0


def _report(path: Path, exc: FlowInvalid) -> int:
    for issue in exc.issues:
        print(f"{path}: {issue}")
    return 1


def _activate(args: argparse.Namespace) -> int:
    settings = load_settings()
    version = flowstore.activate(bootstrap.database(settings), args.flow_id, args.version)
    print(f"flow '{version.flow_id}' version {version.version} is live")
    return 0


def _versions(args: argparse.Namespace) -> int:
    settings = load_settings()
    for v in flowstore.versions(bootstrap.database(settings), args.flow_id):
        mark = "*" if v.is_active else " "
        print(
            f"{mark} {v.version:4d}  {v.created_at:%Y-%m-%d %H:%M}  "
            f"{v.published_by}  {v.sha256[:12]}"
        )
    return 0
