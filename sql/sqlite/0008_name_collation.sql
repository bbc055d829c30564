-- SQLite compares text by code point (BINARY) already; this migration
-- gives PostgreSQL the same order for names (see postgres/0008).
SELECT 1;
