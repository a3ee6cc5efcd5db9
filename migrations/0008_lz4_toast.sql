-- LZ4 instead of pglz for the values PostgreSQL compresses on the ingest path (issue 6): the
-- pending-count row of every ingest statement (parallel arrays of a few hundred entries, tens of
-- KB: `pglz_compress` was 1.4 % of the machine's CPU under batched load), and event payloads
-- past 2 KB (real SDK events often are). LZ4 compresses several times faster, and decompresses
-- faster for the fold. Servers built without LZ4 keep pglz (the statement is skipped).
do $$
begin
    alter table incident_counts_batches
        alter column incident_ids set compression lz4,
        alter column commit_shas set compression lz4,
        alter column environments set compression lz4,
        alter column key_ids set compression lz4,
        alter column counts set compression lz4,
        alter column user_incidents set compression lz4,
        alter column user_hashes set compression lz4;
    alter table incident_events alter column payload set compression lz4;
exception when feature_not_supported then
    raise notice 'LZ4 is not available on this server: TOAST compression stays pglz';
end
$$;
