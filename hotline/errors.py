"""Errors a person can act on: each carries one line that says what to do."""


class HotlineError(Exception):
    """A failure the CLI reports as one line, without a traceback."""


class ConfigError(HotlineError):
    """A setting is wrong or the machine can't run what the setting asks for."""


class DependencyDown(HotlineError):
    """A component Hotline needs (Asterisk, Redis, the database) is not reachable."""
