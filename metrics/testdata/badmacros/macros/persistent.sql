-- A persistent macro would be written into the warehouse: refused.
CREATE MACRO persistent(x) AS x + 1
