-- audit_events_id indexed the primary key a second time: every audited
-- write paid for a page of an index no query needed (the primary key's own
-- index serves every lookup and order by id).
DROP INDEX audit_events_id;
