"""The hub's HTTP faces: ActivityPub endpoints, public pages and the staff JSON API."""
