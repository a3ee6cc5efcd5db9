-- Fewer writes per ingested event (issue 6). Measured by WAL record type on the batched
-- scenario, per stored event: 1.64 row locks (`Heap/LOCK`, 778 bytes with their full-page
-- images), 4 B-tree inserts and 1.6 speculative-insert confirmations.
--
-- 1. No foreign keys on the tables every event writes. Each inserted row's check ran a query
--    (SPI) that key-share-locked the referenced row: every event locked its incident (a WAL
--    record, and a dirtied page of the wide incidents table) and its project (one of a handful
--    of rows every writer locks, so multixacts). Integrity is kept by the writers instead:
--    incidents and projects are never deleted (projects only soft-deleted), and the ingest
--    statement writes an event only with an incident it found or created in the same statement;
--    when a concurrent statement created that incident first (so this one inserted nothing),
--    it aborts and is retried (`cairn_ingest_raced`), the retry finding the incident.
alter table incident_events drop constraint incident_events_project_id_fkey;
alter table incident_events drop constraint incident_events_incident_id_fkey;
alter table incident_commits drop constraint incident_commits_incident_id_fkey;
alter table incident_users drop constraint incident_users_incident_id_fkey;
alter table incident_environments drop constraint incident_environments_incident_id_fkey;

-- 2. No B-tree on the identity `id`: events are identified by the unique `(project_id,
--    event_id)` (both not null), and nothing looks an event up by `id`. The recent events of an
--    incident walk `(incident_id, id desc)`; retention deletes by `ctid`.
alter table incident_events drop constraint incident_events_pkey;
