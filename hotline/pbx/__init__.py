"""Running and configuring Asterisk: the system one or the project's Debian sid sandbox."""
