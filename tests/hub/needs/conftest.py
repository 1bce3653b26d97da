"""The console's browser fixtures, for the needs pages."""

from tests.hub.console.conftest import alice, browsers, staffed

__all__ = ["alice", "browsers", "staffed"]
