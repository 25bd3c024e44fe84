-- The channel metrics (GET /v1/metrics/channels, src/channels/metrics.rs)
-- read, per channel and period, its interactions' direction and contact and
-- the first-response times of the feedback received on it.
--
-- The feedback part read a table row for every item of the channel in the
-- period to find the few with a first response (1,000,000 items over a year,
-- four channels: about half a second on either engine). This index holds
-- only the items responded to, with the time, so each channel's mean is a
-- range of it; an item enters it once, at its first response.
CREATE INDEX feedback_first_responses ON feedback (channel_id, received_at, first_response_seconds)
    WHERE first_response_seconds IS NOT NULL;

-- With direction and contact after the list's keyset columns, the channel
-- filter of the interaction list reads this index as before, and the
-- channel metrics count a channel's interactions from it alone.
DROP INDEX interactions_channel;
CREATE INDEX interactions_channel ON interactions (channel_id, occurred_at, id, direction, contact_id);
