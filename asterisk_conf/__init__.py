"""Asterisk's configuration, rendered from Jinja2 templates by a pure function."""

from asterisk_conf.render import (
    CONFIG_FILES,
    AgentEndpoint,
    PbxContext,
    render_config,
)

__all__ = ["CONFIG_FILES", "AgentEndpoint", "PbxContext", "render_config"]
