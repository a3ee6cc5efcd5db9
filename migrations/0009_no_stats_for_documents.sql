-- No planner statistics for the documents cairn stores but never filters, sorts or joins on
-- (issue 6). Auto-analyze samples up to 30,000 rows of a table each time a tenth of it has
-- changed, which under ingest is often for `incident_events`; for these columns that meant
-- detoasting, sorting and comparing as many documents, for statistics no plan reads
-- (autovacuum and analyze together were 8.6 % of the machine's CPU under batched load).
alter table incident_events alter column payload set statistics 0;
alter table incident_events alter column pending_location set statistics 0;
alter table incidents alter column frames set statistics 0;
alter table incidents alter column stack_trace set statistics 0;
alter table incidents alter column metadata set statistics 0;
alter table incident_commits alter column frames set statistics 0;
