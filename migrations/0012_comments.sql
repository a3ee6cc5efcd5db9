-- Comments the schema lacked (`docs/schema.sql` shows them): the two tables migration 0011
-- created, and the comment on `incidents`, which still named `incident_counts_pending`, the queue
-- migration 0004 replaced with `incident_counts_batches`.

comment on table incidents is 'errors grouped by fingerprint; counts are folded in from incident_counts_batches';

comment on table incident_details is
    'an incident''s documents, written once with the incident from the event that created it; '
    'kept apart from incidents, whose row every fold rewrites';
comment on column incident_details.incident_id is 'incidents.incident_id (no foreign key: the ingest statement writes both rows)';
comment on column incident_details.stack_trace is 'the stack trace text as the runtime printed it, when the event sent text (at most 64 KiB)';
comment on column incident_details.frames is
    'normalised frames, newest call first: [{file_path (repo-relative), line_number, column_number, function, in_app}]';
comment on column incident_details.metadata is 'the event''s metadata object, with its tags under "tags" (at most 64 KiB of JSON, else {"truncated": true})';

comment on table incident_commit_frames is
    'the frames of an incident as located at a commit, beside its incident_commits row (same key), which folds rewrite; '
    'written once, from the first event seen there';
comment on column incident_commit_frames.frames is 'normalised frames, newest call first (as incident_details.frames)';
