"""The live screens: the agent desktop and the supervisor wallboard (data, rules, streams)."""
