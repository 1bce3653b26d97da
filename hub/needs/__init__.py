"""Volunteer needs: the model, check policy, warnings, lifecycle, publishing, and the needs
other hubs send."""
