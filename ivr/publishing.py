"""Publishing a flow: validate, render its prompts to audio, store a new active version."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy.engine import Engine

from ivr import flowstore
from ivr.flow import Flow, load_flow
from ivr.flowstore import FlowVersion
from ivr.prompts import PromptText, render_prompts


def packaged_flow_text(name: str = "default") -> str:
    return resources.files("ivr").joinpath("flows", f"{name}.yaml").read_text(encoding="utf-8")


def static_prompts(flow: Flow) -> list[PromptText]:
    """Prompt texts known at publish time; texts with {variables} are rendered during the call."""
    return [
        PromptText(prompt_id, language, text)
        for prompt_id, texts in flow.prompts.items()
        for language, text in texts.items()
        if "{" not in text
    ]


def publish_flow(engine: Engine, recordings_dir: Path, yaml_text: str, by: str) -> FlowVersion:
    """Raises FlowInvalid or PromptsFailed before anything is stored: a flow goes live whole."""
    flow = load_flow(yaml_text)
    render_prompts(static_prompts(flow), recordings_dir)
    return flowstore.publish(engine, flow.id, yaml_text, by)


def ensure_flow(engine: Engine, recordings_dir: Path, flow_id: str) -> FlowVersion | None:
    """A fresh install answers calls at once: publish the packaged flow if none is active."""
    current = flowstore.active(engine, flow_id)
    if current is not None:
        return current
    try:
        text = packaged_flow_text(flow_id)
    except FileNotFoundError:
        return None
    return publish_flow(engine, recordings_dir, text, by="hotline (packaged)")
