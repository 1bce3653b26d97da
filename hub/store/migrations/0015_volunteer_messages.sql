-- Every email to a volunteer goes through volunteer_mail and the job runner, never inside a
-- request: an ask or news about an offer sent inline held staff's (or the volunteer's) page
-- for up to 30 s per message when the mail server was slow or down. Such a message is written
-- whole (kind 'message', with its subject and text) in the transaction of the change it
-- reports. Its text may carry a private answer link, so it is forgotten once the mail server
-- has taken it, like the link of a welcome, or once the job runner gives up on it (given_up_at:
-- such a row is not planned again, nor does it hold up the mail after it).
ALTER TABLE volunteer_mail ADD COLUMN subject TEXT;
ALTER TABLE volunteer_mail ADD COLUMN body TEXT;
ALTER TABLE volunteer_mail ADD COLUMN given_up_at REAL;
-- The ask an email asks (so staff see beside the ask when it could not be delivered).
ALTER TABLE volunteer_mail ADD COLUMN ask_id INTEGER REFERENCES asks (id) ON DELETE SET NULL;
CREATE INDEX volunteer_mail_ask ON volunteer_mail (ask_id) WHERE ask_id IS NOT NULL;
-- Mail whose job (key `volunteer-mail:{id}` until now) failed for good: given up as well.
-- Job keys now carry the row's time too (hub/store/signups.py), so these would be planned
-- again, late, with links that may have expired.
UPDATE volunteer_mail SET given_up_at = CAST(strftime('%s', 'now') AS REAL), link = NULL
WHERE sent_at IS NULL AND EXISTS (SELECT 1 FROM scheduled_jobs j
    WHERE j.key = 'volunteer-mail:' || volunteer_mail.id AND j.state != 'pending');
