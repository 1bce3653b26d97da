"""Domain services: what the hub does, called by web handlers, inbox handlers and the CLI."""
