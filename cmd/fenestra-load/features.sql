-- The view of the functions issue's load test: a card's spend over 10 days,
-- its count over the last hour and its largest amount over 5 minutes.
CREATE TABLE tx (
  tx_id bigint, card string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts, TTL=30d, TTL_TYPE=absolute)
);
DEPLOY features
SELECT tx_id,
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m
FROM tx
WINDOW
  w10d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
  w1h  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
  w5m  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW);
