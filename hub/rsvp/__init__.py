"""RSVPs from everywhere: one engine (`service`), and the paths into it (ActivityPub
`activities`, stock Mastodon `mastodon` and `polls`, the web form in `hub.web.rsvp_pages`)."""
