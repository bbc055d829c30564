-- Names compare by code point, as in SQLite (BINARY), whatever the
-- database's locale: the talent list's name-prefix search is a range
-- (name >= q AND name < q || U+10FFFF) that is only a prefix under this
-- order, and lists sorted by name come out the same on both stores.
-- Changing the collation rebuilds the indexes on these columns.
ALTER TABLE talents ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE employers ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE operators ALTER COLUMN name TYPE TEXT COLLATE "C";
