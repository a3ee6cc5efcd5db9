-- The rows every fold rewrites carry only what folds and lists read (issue 6). An incident's
-- stack trace, frames and metadata (about 1.3 KB, written once when the incident is created)
-- move to `incident_details`, and the frames of an incident at a commit to
-- `incident_commit_frames`. A fold's update of an incident or commit row copies the whole row:
-- with those documents inline most of it was them, four rows filled a page so an update seldom
-- found room on its own page (HOT), and the two tables outgrew the buffer cache under load.
-- Rows too narrow for TOAST (under 2 KB) are never moved out of line by PostgreSQL itself.
create table incident_details (
    incident_id  text primary key,
    stack_trace  text,
    frames       jsonb not null default '[]',     -- normalised frames, newest call first
    metadata     jsonb not null default '{}'
);

insert into incident_details (incident_id, stack_trace, frames, metadata)
select incident_id, stack_trace, frames, metadata from incidents;

create table incident_commit_frames (
    incident_id  text not null,
    commit_sha   text not null,
    frames       jsonb not null default '[]',
    primary key (incident_id, commit_sha)
);

insert into incident_commit_frames (incident_id, commit_sha, frames)
select incident_id, commit_sha, frames from incident_commits;

alter table incidents drop column stack_trace, drop column frames, drop column metadata;
alter table incident_commits drop column frames;

-- No planner statistics for the documents (as migration 0009 did for the others).
alter table incident_details alter column stack_trace set statistics 0,
                             alter column frames set statistics 0,
                             alter column metadata set statistics 0;
alter table incident_commit_frames alter column frames set statistics 0;
