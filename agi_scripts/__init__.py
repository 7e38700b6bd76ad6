"""Classic AGI entry points: the same handlers as the FastAGI server, over stdin/stdout."""
