-- RSVP news by email is planned from recent unsent rows only (hub/jobs/mail_notices.py): on a
-- hub without a mail server every web sign-up leaves such a row unsent for good, and the
-- planner, every 30 s, must not read them all.
CREATE INDEX rsvp_notifications_unsent_by_time ON rsvp_notifications (channel, created_at)
    WHERE sent_at IS NULL;
