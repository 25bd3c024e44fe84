-- The service-level and complaint metrics read the workflow items
-- (complaints and inquiries) of a period. This index holds every column they
-- read, so both engines answer from it alone instead of reading a table row
-- per item (issue 15 part 6): src/feedback/metrics_sql/service_levels.rs and
-- complaints.rs. The condition is the queries' own, as a planner uses a
-- partial index only when the query's WHERE implies it.
CREATE INDEX feedback_service_levels ON feedback
    (received_at, kind, channel_id, priority, category, status,
     first_response_due_at, first_responded_at, first_response_seconds,
     resolution_due_at, resolved_at, resolution_seconds, paused_at,
     reopen_count, account_id, id)
    WHERE status IS NOT NULL;

-- The complaint metrics count the items of every kind of a period, per
-- channel, priority or category when asked (the denominator of the complaint
-- rate). With those columns after the list's keyset columns, the list reads
-- this index as before and the counts read it alone.
DROP INDEX feedback_received;
CREATE INDEX feedback_received ON feedback (received_at, id, channel_id, priority, category);
