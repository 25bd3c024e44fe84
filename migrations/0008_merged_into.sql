-- A merged-away duplicate remembers its survivor, so erasing the survivor
-- (the same person) erases every record that was merged into it.
ALTER TABLE contacts ADD COLUMN merged_into_id UUID;
CREATE INDEX contacts_merged_into ON contacts (merged_into_id) WHERE merged_into_id IS NOT NULL;
