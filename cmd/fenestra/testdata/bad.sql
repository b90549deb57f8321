CREATE TABLE tx (id bigint, card string, amount double, ts timestamp);
DEPLOY spend SELECT id, sum(amout) OVER w AS spend_1d
FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW);
