-- Performance (issue 6): indexes for the IDE's queries and a cheaper ingest write path.

-- `GET /v1/incidents?commit=…` lists the incidents seen at a commit, newest activity there
-- first: this index walks them in that order and stops after one page, however many incidents
-- and events the repo holds.
create index incident_commits_activity_idx
    on incident_commits (commit_sha, last_seen_at desc, incident_id desc);
-- The old (commit_sha, incident_id) index is a prefix of the one above.
drop index incident_commits_commit_idx;

-- Pending counts are appended once per incident, commit, environment and key of an ingest
-- statement (a group of events committed together), not once per event.
alter table incident_counts_pending
    add column n integer not null default 1,  -- events this row counts
    add column user_hashes bytea[];           -- distinct end users (hashed) among them
comment on column incident_counts_pending.user_hash is 'one end user (rows written before 0004; new rows use user_hashes)';

-- Raised by the ingest statement when a concurrent statement created one of its incidents or
-- stored one of its events after its snapshot: the statement then writes nothing, and the
-- caller retries (SQLSTATE 40001, serialization failure, is what retry loops look for).
create function cairn_ingest_raced() returns boolean
language plpgsql as $$
begin
    raise exception 'ingest raced a concurrent write, retry' using errcode = 'serialization_failure';
end
$$;
comment on function cairn_ingest_raced() is 'aborts an ingest statement that raced a concurrent one';
