"""Volunteers at this hub: their profiles, consents and checks (validation and services)."""
