-- When a poll vote was answered (its place taken or given up, and the voter told), so a vote
-- processed again (after a stop, or a retry) is answered once: see hub/store/polls.py.
-- Votes already stored count as answered: before this, a vote processed again was ignored.
ALTER TABLE poll_votes ADD COLUMN answered_at REAL;
UPDATE poll_votes SET answered_at = voted_at;
