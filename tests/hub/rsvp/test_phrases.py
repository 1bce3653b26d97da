"""Reading "going", "maybe" and "can't come" out of a Mastodon note."""

from __future__ import annotations

import pytest

from hub.rsvp.mastodon import note_text, parse_answer

MENTION = ('<span class="h-card" translate="no"><a href="https://hub.example.org/actors/hub" '
           'class="u-url mention">@<span>hub</span></a></span>')


@pytest.mark.parametrize(("content", "answer"), [
    # going
    ("going", "going"),
    ("I'm going!", "going"),
    ("Count me in!", "going"),
    ("count   me IN", "going"),
    ("I\u2019ll be there", "going"),
    ("Yes", "going"),
    ("yes please, attending", "going"),
    (f"<p>{MENTION} count me in!</p>", "going"),
    (f"<p>{MENTION} I'm coming 🎉</p>", "going"),
    # maybe
    ("maybe", "maybe"),
    ("I might come", "maybe"),
    ("Interested!", "maybe"),
    ("tentative", "maybe"),
    ("<p>Not sure yet</p>", "maybe"),
    # not going
    ("can't come", "not_going"),
    ("Sorry, I can\u2019t come", "not_going"),
    ("I cannot make it", "not_going"),
    ("not going", "not_going"),
    ("No", "not_going"),
    ("Won't make it, sorry", "not_going"),
    ("please cancel", "not_going"),
    ("<p>not coming after all</p>", "not_going"),
    # unclear: nothing, or more than one answer
    ("Looks lovely!", None),
    ("", None),
    ("yes or no?", None),
    ("maybe, maybe not going", None),
    ("not sure if I'm going", None),
    # words inside other words do not count
    ("The yesterday ongoing nothing", None),
    ("cancellation policy?", None),
    # mentions, hashtags and links are not read
    ('<p>@going <a href="https://example.org/yes">https://example.org/yes</a> #going</p>', None),
])
def test_phrases(content: str, answer: str | None) -> None:
    assert parse_answer(note_text(content)) == answer


def test_note_text_drops_html_mentions_and_links() -> None:
    html = (f'<p>{MENTION} Count me <strong>in</strong>!<br>See '
            '<a href="https://hub.example.org/events/x">https://hub.example.org/events/x</a></p>')
    assert note_text(html) == "count me in see"
