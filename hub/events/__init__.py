"""Events and skill-share sessions: the model, recurrence, the summary line, banners, services."""
