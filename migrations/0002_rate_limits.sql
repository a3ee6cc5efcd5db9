-- Per-project rate limiting across Lambda instances. Instances reserve quota in chunks (one
-- write per chunk, not per event) from the row of the current minute.
create table rate_limit_windows (
    project_id    text not null,
    window_start  timestamptz not null,            -- start of the minute
    used          bigint not null,                 -- events reserved by all instances in this minute
    primary key (project_id, window_start)
);
comment on table rate_limit_windows is 'quota reserved per project per minute (CAIRN_RATE_LIMIT_PER_MINUTE)';
