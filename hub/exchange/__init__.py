"""Matching in practice: asking volunteers, offers between hubs, matches and logged hours."""
