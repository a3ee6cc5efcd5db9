-- Every incident has the row of its own environment in `incident_environments` (issue 6): the
-- ingest statement now writes it with the incident, and folds look up only the other
-- environments an incident was seen in. Rows of incidents whose first counts were still pending
-- when this ran are written here.
insert into incident_environments (incident_id, environment)
select incident_id, environment from incidents where environment is not null
on conflict do nothing;
