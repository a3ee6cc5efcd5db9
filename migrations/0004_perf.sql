-- Performance (issue 6): indexes for the IDE's queries and a cheaper ingest write path.

-- Newest activity first, without a write to an index per event. The lists sort on
-- `activity_at`, which follows `last_seen_at` at one-minute resolution: folding counts in moves
-- it only when the incident (or its location at a commit) was seen a minute or more after it.
-- Most folds then change no indexed column, so their updates are HOT (same page, no new index
-- entries; fillfactor leaves room), and the indexes stay small. `last_seen_at` stays exact.
alter table incidents add column activity_at timestamptz not null default now();
update incidents set activity_at = last_seen_at;
comment on column incidents.activity_at is 'sort key of the lists: last_seen_at at one-minute resolution';
drop index incidents_project_activity_idx;
create index incidents_project_activity_idx on incidents (project_id, status, activity_at desc, incident_id desc);
alter table incidents set (fillfactor = 80);

-- `GET /v1/incidents?commit=…` lists the incidents seen at a commit, newest activity there
-- first: this index walks them in that order and stops after one page, however many incidents
-- and events the repo holds. It replaces the (commit_sha, incident_id) index, its prefix.
alter table incident_commits add column activity_at timestamptz not null default now();
update incident_commits set activity_at = last_seen_at;
comment on column incident_commits.activity_at is 'sort key at this commit: last_seen_at at one-minute resolution';
drop index incident_commits_commit_idx;
create index incident_commits_activity_idx on incident_commits (commit_sha, activity_at desc, incident_id desc);
alter table incident_commits set (fillfactor = 80);

-- Every incident has the row of the environment it was first seen in (folding counts in adds
-- an environment only when it is missing: a lookup, not an insert that conflicts).
insert into incident_environments (incident_id, environment)
select incident_id, environment from incidents where environment is not null
on conflict do nothing;

-- Counts waiting to be folded in: ONE row per ingest statement (a group of events committed
-- together), its entries in parallel arrays, instead of one row per event. A spike of spread
-- events then appends one row, not one row and two index entries per event. Replaces
-- incident_counts_pending; rows still pending there are carried over.
create table incident_counts_batches (
    id              bigint generated always as identity primary key,
    seen_at         timestamptz not null,      -- when the statement ran
    incident_ids    text[]  not null,          -- one entry per incident, commit, environment and key:
    commit_shas     text[]  not null,          --   the commit (null when unknown),
    environments    text[]  not null,          --   the environment,
    key_ids         text[]  not null,          --   the ingest key,
    counts          integer[] not null,        --   and how many events it counts
    user_incidents  text[]  not null,          -- (incident, end user) pairs seen, as two arrays
    user_hashes     bytea[] not null
);
comment on table incident_counts_batches is 'event counts waiting to be folded in, one row per ingest statement (drained continuously)';
insert into incident_counts_batches (seen_at, incident_ids, commit_shas, environments, key_ids, counts,
                                     user_incidents, user_hashes)
select seen_at, array[incident_id], array[commit_sha], array[environment], array[key_id], array[1],
       case when user_hash is null then '{}'::text[] else array[incident_id] end,
       case when user_hash is null then '{}'::bytea[] else array[user_hash] end
  from incident_counts_pending order by id;
drop table incident_counts_pending;

-- Raised by the ingest statement when a concurrent statement stored one of its events after its
-- snapshot: the statement then writes nothing, and the caller retries (SQLSTATE 40001,
-- serialization failure, is what retry loops look for).
create function cairn_ingest_raced() returns boolean
language plpgsql as $$
begin
    raise exception 'ingest raced a concurrent write, retry' using errcode = 'serialization_failure';
end
$$;
comment on function cairn_ingest_raced() is 'aborts an ingest statement that raced a concurrent one';
