"""Volunteers signing themselves up, on the web form or through a link the hub sent to their
fediverse account.

A self sign-up is `pending`: it is stored, the volunteer gets their private link at once (and
by email if they gave an address), and coordinators approve it in the console after speaking
to the person (safer recruitment). Only approved (`active`) volunteers are matched. A sign-up
through a fediverse link stores the handle as proven, with the account's actor id.
"""

from __future__ import annotations

from hub.runtime import Hub
from hub.store import signups
from hub.store import volunteers as store
from hub.store.signups import Invite
from hub.store.volunteers import SignupMark, Volunteer
from hub.volunteers import service
from hub.volunteers.model import Profile

INVITE_LIFETIME = 7 * 24 * 3600.0  # a sign-up link sent by direct message works for a week
_SIGNUP = service.Actor("signup")


def access_url(hub: Hub, token: str) -> str:
    return f"{hub.urls.base}/me/{token}"


async def sign_up(hub: Hub, profile: Profile, invite: Invite | None = None) -> tuple[Volunteer,
                                                                                       str]:
    """Store a pending volunteer; returns them and their private link's token. InviteUsed if
    the fediverse link was used meanwhile (it is consumed with the sign-up, once)."""
    mark = (SignupMark("fediverse", invite.actor_id, invite.token_hash) if invite
            else SignupMark("web"))
    volunteer = await store.add_volunteer(hub.db, profile, signup=mark)
    token, _ = await store.new_access_link(hub.db, volunteer.id, service.ACCESS_LINK_LIFETIME)
    if profile.email:
        await signups.queue_mail(hub.db, volunteer.id, "welcome", access_url(hub, token))
        hub.wake_jobs()
    await service.audit_action(hub.db, _SIGNUP, "volunteer.signup", volunteer.uuid,
                               source=mark.source)
    return volunteer, token


async def send_new_link(hub: Hub, email: str) -> int:
    """Email a fresh private link (replacing the old one) to each volunteer with this address;
    returns how many, which the caller must not reveal to whoever asked."""
    found = await store.volunteers_by_email(hub.db, email)
    for volunteer in found:
        token, _ = await service.access_link(hub.db, volunteer, _SIGNUP)
        await signups.queue_mail(hub.db, volunteer.id, "link", access_url(hub, token))
    if found:
        hub.wake_jobs()
    return len(found)
