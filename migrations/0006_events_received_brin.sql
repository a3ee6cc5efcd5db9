-- Retention finds old events by `received_at`, which grows with the table's physical order
-- (events are only appended). A BRIN index (the range of `received_at` per 128 pages) finds
-- them as well as a B-tree did, and costs ingest almost nothing: the B-tree took one more
-- index insert per event, all on its right-most page, which every concurrent ingest statement
-- contended for. (Issue 6.)
drop index incident_events_received_idx;
create index incident_events_received_brin on incident_events using brin (received_at);
