"""A volunteer, in a real browser, signs up on the hub's form with the keyboard-friendly
labels a screen reader announces: a mistake comes back listed with what they typed kept,
then the sign-up succeeds and shows their private link. The pages are kept as screenshots in
tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hub.store import volunteers as store
from tests.support.hubs import RunningHub


async def test_a_volunteer_signs_up_in_a_browser(hubs: Any, chromium: Any,
                                                 artifacts: Path) -> None:
    # Given a hub, and a neighbour who follows the link on its home page
    running: RunningHub = await hubs("redbridge")
    page = await chromium.new_page()
    await page.goto(running.base_url + "/")
    await page.get_by_role("link", name="Sign up as a volunteer").click()
    await page.wait_for_url(f"{running.base_url}/volunteer")

    # When she fills in the form, mistyping her postcode district
    await page.get_by_label("Your name").fill("Maryam Haddad")
    await page.get_by_label(re.compile(r"^Email address")).fill("maryam@example.org")
    await page.get_by_label(re.compile(r"^Postcode district")).fill("IG1 4AB")
    await page.get_by_role("checkbox", name="Befriending: I can help with this").check()
    await page.get_by_role("checkbox", name="Gardening: I'm interested").check()
    await page.get_by_label("Arabic").check()
    await page.get_by_role("checkbox", name="Saturday morning").check()
    await page.get_by_role("checkbox", name="Wednesday evening").check()
    await page.get_by_label("How many things you can help with at once").fill("2")
    await page.get_by_label("Suggest me for help requests at this hub").check()
    await page.get_by_role("button", name="Sign up").click()

    # Then the form comes back saying what is wrong, with everything she typed
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "Postcode district is a UK postcode district" in await alert.inner_text()
    assert await page.get_by_label("Your name").input_value() == "Maryam Haddad"
    assert await page.get_by_role("checkbox", name="Saturday morning").is_checked()
    await page.screenshot(path=str(artifacts / "volunteer-signup-error.png"), full_page=True)

    # When she corrects it (following the error's link to the field) and sends it again
    await alert.get_by_role("link").click()
    await page.get_by_label(re.compile(r"^Postcode district")).fill("IG1")
    await page.get_by_role("button", name="Sign up").click()

    # Then she sees her private link, and she is a volunteer waiting for approval
    await page.wait_for_url(re.compile(r"/me/[A-Za-z0-9_-]+\?welcome=1$"))
    assert "Thank you, Maryam Haddad" in await page.get_by_role("heading", level=1).inner_text()
    link = page.url.split("?")[0]
    assert link in await page.get_by_role("status").inner_text()
    await page.screenshot(path=str(artifacts / "volunteer-signup-done.png"), full_page=True)
    [volunteer] = await store.list_volunteers(running.hub.db)
    assert volunteer.status == "pending" and volunteer.profile.district == "IG1"
    assert volunteer.profile.availability == {"wed": ("evening",), "sat": ("morning",)}
    assert volunteer.profile.languages == ("ar",)
    assert volunteer.profile.consents["match_here"]

    # And from her page she corrects her details and changes a consent, in the same browser
    await page.get_by_role("link", name="Correct your details or change what you agreed to").click()
    await page.get_by_label("Your name").fill("Maryam H.")
    await page.get_by_label("Suggest me for help requests from neighbouring hubs too").check()
    await page.get_by_role("button", name="Save changes").click()
    await page.wait_for_url(f"{link}?done=saved")
    assert "Your changes are saved" in await page.get_by_role("status").inner_text()
    [volunteer] = await store.list_volunteers(running.hub.db)
    assert volunteer.profile.name == "Maryam H."
    assert volunteer.profile.consents["match_neighbours"]

    # And she deletes everything, after confirming
    await page.goto(link)
    await page.get_by_role("link", name="Delete your details").click()
    await page.get_by_label("Yes, delete everything about me").check()
    await page.get_by_role("button", name="Delete my details").click()
    await page.get_by_role("heading", name="Your details are deleted").wait_for()
    assert await store.list_volunteers(running.hub.db) == []
