"""The hub's calendar for other programs: iCalendar, Atom and RSS feeds, and schema.org
JSON-LD for search engines. Pure functions over event rows; the web handlers read the store
and call these."""
