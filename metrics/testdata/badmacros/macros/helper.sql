-- Calls twice, created after it alphabetically: install order must follow
-- dependencies, not file names.
CREATE OR REPLACE TEMP MACRO helper(x) AS twice(x) + 1
