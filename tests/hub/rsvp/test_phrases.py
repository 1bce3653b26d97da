"""Reading "going", "maybe" and "can't come" out of a Mastodon note."""

from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest

from hub.rsvp.mastodon import (
    _NOISE,
    _PATTERNS,
    _PUNCTUATION,
    PHRASES,
    PhraseWords,
    note_text,
    parse_answer,
)
from hub.volunteers import fediverse as signup

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


def _parsed_text(content: str) -> str:
    """note_text's markup step as the HTML parser does it, for any input."""
    parts: list[str] = []

    class Text(HTMLParser):
        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag in ("p", "br", "li"):
                parts.append(" ")

        def handle_data(self, data: str) -> None:
            parts.append(data)

    Text(convert_charrefs=True).feed(content)
    return "".join(parts)


FRAGMENTS = ["<p>", "</p>", "<br>", "<br/>", "<BR />", "<li>", "<P class='x'>", "<span>",
             '<a href="https://e.org/a?b=1&amp;c=2">', "</a>", "<a href='x\">y'>", "&amp;",
             "&#39;", "&nbsp", "<!-- yes -->", "<script>going</script>", "a < b", "x<3",
             "</ >", "<a/b>", "<p\nclass=x>", "<img alt=\"a>b\">", "going", "can't come",
             " maybe ", "count me in", "\u2019", "<p", ">", "yes", "not sure", "<?php ?>"]


def test_note_text_reads_markup_as_the_html_parser_does() -> None:
    rng = random.Random(7)
    samples = [MENTION, *FRAGMENTS]
    samples += ["".join(rng.choices(FRAGMENTS, k=rng.randint(1, 8))) for _ in range(3000)]
    for content in samples:
        expected = _parsed_text(content).replace("\u2019", "'").replace("\u2018", "'")
        expected = " ".join(_PUNCTUATION.sub(" ", _NOISE.sub(" ", expected)).casefold().split())
        assert note_text(content) == expected, content


def _every_pattern(text: str) -> str | None:
    """parse_answer without its quick look for phrase words first."""
    found = set()
    for answer, patterns in _PATTERNS.items():
        for pattern in patterns:
            text, hits = pattern.subn(" | ", text)
            if hits:
                found.add(answer)
    return found.pop() if len(found) == 1 else None


def test_parse_answer_agrees_with_trying_every_pattern() -> None:
    rng = random.Random(11)
    words = sorted({w for phrases in PHRASES.values() for p in phrases for w in p.split()})
    words += ["the", "bikes", "can", "i", "fix", "not", "x'", "'s", "café"]
    separators = [" ", "  ", "\n", "-", "'", ",", ""]
    for _ in range(5000):
        parts = rng.choices(words, k=rng.randint(1, 7))
        text = "".join(f"{word}{rng.choice(separators)}" for word in parts)
        assert parse_answer(text) == _every_pattern(text), text


def test_phrase_words_never_rule_out_a_note_a_sign_up_pattern_matches() -> None:
    quick = PhraseWords(signup.PHRASES)
    rng = random.Random(13)
    words = [*sorted({w for p in signup.PHRASES for w in p.split()}), "the", "café", "x'"]
    for _ in range(5000):
        text = "".join(f"{w}{rng.choice([' ', '  ', '-', '', ','])}"
                       for w in rng.choices(words, k=rng.randint(1, 8)))
        if any(p.search(text) for p in signup._PATTERNS):
            assert quick.may_hold(text), text
    assert signup.wants_to_sign_up("could the repair café use one more volunteer") is False
    assert signup.wants_to_sign_up("hi i'd like to volunteer please") is True


def test_phrase_words_refuse_phrases_they_cannot_judge() -> None:
    with pytest.raises(ValueError):
        PhraseWords(["sign-up now"])
