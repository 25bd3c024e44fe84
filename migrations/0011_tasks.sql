-- Tasks: what must happen next (see src/tasks).

CREATE TABLE tasks (
    id              UUID PRIMARY KEY,
    title           TEXT NOT NULL,
    description     TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'visit', 'review', 'greeting',
                        'follow_up', 'other')),
    -- The deadline. For a task given a local date (due_on), the end of that
    -- day in time_zone.
    due_at          TIMESTAMPTZ NOT NULL,
    due_on          TEXT,
    time_zone       TEXT NOT NULL,
    assignee_id     UUID NOT NULL REFERENCES users (id),
    priority        TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status          TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    completed_at    TIMESTAMPTZ,
    outcome         TEXT,
    contact_id      UUID REFERENCES contacts (id),
    account_id      UUID REFERENCES accounts (id),
    feedback_id     UUID REFERENCES feedback (id) ON DELETE SET NULL,
    engagement_id   UUID REFERENCES engagements (id) ON DELETE SET NULL,
    repeat_every    BIGINT CHECK (repeat_every BETWEEN 1 AND 1000),
    repeat_unit     TEXT CHECK (repeat_unit IN ('day', 'week', 'month', 'quarter', 'year')),
    -- The occurrence this one follows: UNIQUE, so completing an occurrence
    -- twice at once creates one next occurrence.
    follows_id      UUID UNIQUE REFERENCES tasks (id),
    -- A recurring series counts from its first due date (series_anchor, a
    -- local date or date-time), so month ends do not drift: the n-th
    -- occurrence is due anchor + n intervals.
    series_anchor   TEXT,
    series_index    BIGINT NOT NULL DEFAULT 0,
    -- The rule that created the task and what it is about (the complaint,
    -- the key account, the contact), once each.
    rule            TEXT CHECK (rule IN ('complaint_at_risk', 'key_account_review', 'birthday_greeting')),
    rule_subject    UUID,
    -- Set when the task is done, for the timelines' indexes.
    done_contact_id UUID,
    done_account_id UUID,
    created_by      UUID,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX tasks_rule ON tasks (rule, rule_subject) WHERE rule IS NOT NULL;
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, due_at, id);
CREATE INDEX tasks_due ON tasks (due_at, id);
CREATE INDEX tasks_status ON tasks (status, due_at, id);
CREATE INDEX tasks_contact ON tasks (contact_id, due_at, id) WHERE contact_id IS NOT NULL;
CREATE INDEX tasks_account ON tasks (account_id, due_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX tasks_done_contact ON tasks (done_contact_id, completed_at, id) WHERE done_contact_id IS NOT NULL;
CREATE INDEX tasks_done_account ON tasks (done_account_id, completed_at, id) WHERE done_account_id IS NOT NULL;
CREATE INDEX tasks_done_contact_no_account ON tasks (done_contact_id, completed_at, id)
    WHERE done_contact_id IS NOT NULL AND done_account_id IS NULL;

-- The next open task's deadline, on the customer record.
ALTER TABLE contacts ADD COLUMN next_task_due_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN next_task_due_at TIMESTAMPTZ;

-- The rules that create tasks (GET/PUT /v1/settings/tasks): one row once
-- saved; until then every rule is on.
CREATE TABLE task_settings (
    id                      BIGINT PRIMARY KEY CHECK (id = 1),
    complaint_follow_ups    BOOLEAN NOT NULL,
    escalation_user_id      UUID REFERENCES users (id),
    key_account_reviews     BOOLEAN NOT NULL,
    birthday_greetings      BOOLEAN NOT NULL,
    version                 BIGINT NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL
);

-- A contact's birthday, month and day ('03-15'): the birthday greeting rule.
ALTER TABLE contacts ADD COLUMN birthday TEXT;
