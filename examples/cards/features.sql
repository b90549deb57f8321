-- Card fraud features: the README example, and what `fenestra up` runs.
-- (testdata/features/card_features.txt runs the same views on hand-checked rows.)

-- Card transactions: the rows requests are made of.
CREATE TABLE tx (
  tx_id bigint,
  card string,
  country string,
  amount double,
  ts timestamp,
  INDEX(KEY=card, TS=ts, TTL=30d, TTL_TYPE=absolute)
);

-- The card's profile; a LAST JOIN takes its latest version.
CREATE TABLE cards (
  card string,
  home string,
  credit_limit double,
  updated timestamp,
  INDEX(KEY=card, TS=updated, TTL=1, TTL_TYPE=latest)
);

DEPLOY card_features
SELECT
  tx_id,
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m,
  -- CEL: typed, sandboxed expressions inside the SQL
  count_where(amount, CEL('country != home && amount > 100.0')) OVER w10d AS abroad_big_10d,
  CEL('credit_limit == null ? 0.0 : amount / credit_limit') AS limit_share
FROM tx LAST JOIN cards ORDER BY cards.updated ON tx.card = cards.card
WINDOW
  w10d AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
  w1h  AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
  w5m  AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW);
