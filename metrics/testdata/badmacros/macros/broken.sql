-- Calls a function that does not exist.
CREATE OR REPLACE TEMP MACRO broken(x) AS
    x + no_such_function(x)
