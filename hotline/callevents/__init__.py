"""Call events: every call's life on a durable Redis Stream, and the live figures beside it."""
