-- Segments: saved filters over contacts or accounts (see src/segments).
-- `filter` holds the list filters of `entity` as a JSON object, checked by
-- the list's own code when saved and again when read.

CREATE TABLE segments (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    entity      TEXT NOT NULL CHECK (entity IN ('contacts', 'accounts')),
    filter      JSONB NOT NULL,
    created_by  UUID,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX segments_created ON segments (created_at, id);
CREATE INDEX segments_entity ON segments (entity, created_at, id);
