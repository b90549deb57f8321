-- Card fraud features: the README example, and what `fenestra up` runs.
-- (testdata/features/card_features.txt runs the same views on hand-checked rows.)

-- Card transactions: the rows requests are made of. The country may be
-- missing (NULL).
CREATE TABLE tx (
  tx_id bigint,
  card string,
  merchant string,
  country string,
  amount double,
  ts timestamp,
  INDEX(KEY=card, TS=ts, TTL=30d, TTL_TYPE=absolute)
);

-- The card's profile, one row per version (the home country moves, the
-- credit limit changes, and may be unknown). Every version is kept, so a
-- transaction joins the version in force at its own time.
CREATE TABLE cards (
  card string,
  home string,
  credit_limit double,
  updated timestamp,
  INDEX(KEY=card, TS=updated)
);

-- Merchants and their category (some are uncategorized: NULL).
CREATE TABLE merchants (
  merchant string,
  category string,
  INDEX(KEY=merchant)
);

DEPLOY card_features
SELECT
  tx_id,
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m,
  distinct_count(tx.merchant) OVER w10d AS merchants_10d,
  -- CEL: typed, sandboxed expressions inside the SQL
  count_where(amount, CEL('country != null && cards.home != null && country != cards.home && amount > 100.0')) OVER w10d AS abroad_big_10d,
  sum_where(amount, CEL('merchants.category == "online"')) OVER w1h AS online_1h,
  -- the card's previous transaction, however old
  lag(amount, 1) OVER w10d AS prev_amount,
  (bigint(ts) - bigint(lag(ts, 1) OVER w10d)) DIV 1000 AS secs_since_prev,
  CEL('cards.credit_limit == null ? 0.0 : amount / cards.credit_limit') AS limit_share,
  merchants.category AS category
FROM tx
  -- point in time: the latest profile version at the transaction's time
  LAST JOIN cards ORDER BY cards.updated ON tx.card = cards.card AND cards.updated <= tx.ts
  LAST JOIN merchants ON tx.merchant = merchants.merchant
WINDOW
  w10d AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
  w1h  AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
  w5m  AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW);
