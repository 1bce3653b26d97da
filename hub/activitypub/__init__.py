"""How the hub's objects look as ActivityStreams JSON."""
