CREATE TABLE tx (id bigint, card string, amount double, mcc int, ts timestamp, INDEX(KEY=card, TS=ts));
DEPLOY spend OPTIONS(long_windows="w30d:1d") SELECT id,
  sum(amount) OVER w30d AS spend_30d,
  median(amount) OVER w30d AS median_30d
FROM tx WINDOW w30d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 30d PRECEDING AND CURRENT ROW);
