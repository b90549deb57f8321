-- Every function of OpenMLDB's function reference (functions.list), called
-- at least once: one DEPLOY per family. TestAllFunctionsFile compiles it,
-- checks that it calls every function of the list (but those named on a
-- "not called" line below), and runs each view over a few rows in batch
-- mode and in request mode, which must agree. `fenestra check` accepts it.
--
-- not called: make_tuple: the engine's helper for the states of aggregates
--   written in SQL; its tuple is a type no column takes, and fenestra has
--   none (known_differences.txt)

CREATE TABLE t (
  id bigint,
  k string,
  ts timestamp,
  b bool,
  i16 smallint,
  i32 int,
  i64 bigint,
  f float,
  d double,
  s string,
  kv string,
  dt date,
  INDEX(KEY=k, TS=ts)
);

DEPLOY math_functions
SELECT
  id,
  abs(i32) AS abs_i32,
  acos(d) AS acos_d,
  add(i32, i64) AS add_i32_i64,
  asin(d) AS asin_d,
  atan(d) AS atan_d,
  atan(d, f) AS atan_d_f,
  atan2(d, f) AS atan2_d_f,
  ceil(d) AS ceil_d,
  ceiling(f) AS ceiling_f,
  cos(d) AS cos_d,
  cot(d) AS cot_d,
  degrees(d) AS degrees_d,
  earth_distance(d, f, i32, i64) AS earth_distance_,
  exp(d) AS exp_d,
  floor(d) AS floor_d,
  inc(i64) AS inc_i64,
  ln(d) AS ln_d,
  log(d) AS log_d,
  log(i32, d) AS log_base,
  log10(d) AS log10_d,
  log2(d) AS log2_d,
  maximum(i32, d) AS maximum_i32_d,
  minimum(dt, dt) AS minimum_dt,
  pmod(i64, i32) AS pmod_i64_i32,
  pow(d, i16) AS pow_d_i16,
  power(i32, f) AS power_i32_f,
  radians(d) AS radians_d,
  round(d) AS round_d,
  sin(d) AS sin_d,
  sqrt(d) AS sqrt_d,
  tan(d) AS tan_d,
  truncate(d) AS truncate_d
FROM t;

DEPLOY string_functions
SELECT
  id,
  char(i32) AS char_i32,
  char_length(s) AS char_length_s,
  character_length(s) AS character_length_s,
  concat(s, i32, d, ts, dt) AS concat_,
  concat_ws('-', s, i64, f, b) AS concat_ws_,
  hex(s) AS hex_s,
  hex(i64) AS hex_i64,
  ilike_match(s, 'A%') AS ilike_match_s,
  lcase(s) AS lcase_s,
  like_match(s, 'a_c', '\\') AS like_match_s,
  lower(s) AS lower_s,
  regexp_like(s, '[a-z]+', 'i') AS regexp_like_s,
  replace(s, 'b') AS replace_2,
  replace(s, 'b', 'B') AS replace_3,
  reverse(s) AS reverse_s,
  strcmp(s, k) AS strcmp_s_k,
  substr(s, 2) AS substr_s,
  substring(s, -2, 1) AS substring_s,
  ucase(s) AS ucase_s,
  unhex(hex(s)) AS unhex_s,
  upper(s) AS upper_s
FROM t;

DEPLOY datetime_functions
SELECT
  id,
  add_months(dt, i32) AS add_months_dt,
  date_format(ts, '%Y-%m-%d %H:%M:%S') AS date_format_ts,
  date_format(dt, '%Y/%m/%d') AS date_format_dt,
  datediff(dt, '2024-01-01') AS datediff_dt,
  day(ts) AS day_ts,
  dayofmonth(dt) AS dayofmonth_dt,
  dayofweek(ts) AS dayofweek_ts,
  dayofyear(i64) AS dayofyear_i64,
  hour(ts) AS hour_ts,
  last_day(dt) AS last_day_dt,
  minute(ts) AS minute_ts,
  month(ts) AS month_ts,
  second(ts) AS second_ts,
  unix_timestamp(dt) AS unix_timestamp_dt,
  unix_timestamp(s) AS unix_timestamp_s,
  week(ts) AS week_ts,
  weekofyear(dt) AS weekofyear_dt,
  year(ts) AS year_ts
FROM t;

DEPLOY conversion_functions
SELECT
  id,
  bigint(s) AS bigint_s,
  bool(s) AS bool_s,
  date(ts) AS date_ts,
  date(s) AS date_s,
  double(s) AS double_s,
  float(s) AS float_s,
  int(s) AS int_s,
  int16(s) AS int16_s,
  int32(s) AS int32_s,
  int64(s) AS int64_s,
  smallint(s) AS smallint_s,
  string(ts) AS string_ts,
  string(d) AS string_d,
  timestamp(s) AS timestamp_s,
  timestamp(dt) AS timestamp_dt
FROM t;

DEPLOY condition_functions
SELECT
  id,
  identity(i32) AS identity_i32,
  if_null(s, 'none') AS if_null_s,
  ifnull(i32, i64) AS ifnull_i32_i64,
  is_null(d) AS is_null_d,
  isnull(s) AS isnull_s,
  nvl(f, d) AS nvl_f_d,
  nvl2(s, i32, i64) AS nvl2_s
FROM t;

DEPLOY array_functions
SELECT
  id,
  array_contains(split_array(kv, ','), s) AS array_contains_,
  `join`(split(kv, ','), ' ') AS join_split,
  `join`(list_except_by_key(split(kv, ','), 'a'), ',') AS list_except_by_key_,
  `join`(list_except_by_value(split(kv, ','), '1'), ',') AS list_except_by_value_,
  size(split_by_key(kv, ',', ':')) AS size_split_by_key,
  `join`(split_by_value(kv, ',', ':'), '|') AS split_by_value_
FROM t;

DEPLOY hash_json_functions
SELECT
  id,
  farm_fingerprint(s) AS farm_fingerprint_s,
  hash64(i64) AS hash64_i64,
  get_json_object('{"a": [1, 2]}', concat('/a/', i32)) AS get_json_object_,
  json_array_length(concat('[', kv, ']')) AS json_array_length_
FROM t;

DEPLOY aggregate_functions
SELECT
  id,
  avg(d) OVER w AS avg_d,
  avg_where(d, b) OVER w AS avg_where_d,
  count(s) OVER w AS count_s,
  count_where(i32, i32 > 1) OVER w AS count_where_i32,
  distinct_count(s) OVER w AS distinct_count_s,
  drawdown(d) OVER w AS drawdown_d,
  entropy(s) OVER w AS entropy_s,
  ew_avg(d, 0.5) OVER w AS ew_avg_d,
  max(dt) OVER w AS max_dt,
  max_where(i64, b) OVER w AS max_where_i64,
  median(i32) OVER w AS median_i32,
  min(s) OVER w AS min_s,
  min_where(f, b) OVER w AS min_where_f,
  std(d) OVER w AS std_d,
  stddev(i32) OVER w AS stddev_i32,
  stddev_pop(d) OVER w AS stddev_pop_d,
  stddev_samp(f) OVER w AS stddev_samp_f,
  sum(i64) OVER w AS sum_i64,
  sum_where(d, i32 > 1) OVER w AS sum_where_d,
  top(i32, 3) OVER w AS top_i32,
  top1_ratio(s) OVER w AS top1_ratio_s,
  topn_frequency(s, 2) OVER w AS topn_frequency_s,
  var_pop(d) OVER w AS var_pop_d,
  var_samp(d) OVER w AS var_samp_d,
  variance(i16) OVER w AS variance_i16
FROM t
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 10 PRECEDING AND CURRENT ROW);

DEPLOY cate_functions
SELECT
  id,
  avg_cate(d, s) OVER w AS avg_cate_,
  avg_cate_where(d, b, s) OVER w AS avg_cate_where_,
  count_cate(d, i32) OVER w AS count_cate_,
  count_cate_where(d, b, dt) OVER w AS count_cate_where_,
  max_cate(i32, s) OVER w AS max_cate_,
  max_cate_where(i32, b, s) OVER w AS max_cate_where_,
  min_cate(f, s) OVER w AS min_cate_,
  min_cate_where(f, b, s) OVER w AS min_cate_where_,
  sum_cate(i64, s) OVER w AS sum_cate_,
  sum_cate_where(i64, b, i32) OVER w AS sum_cate_where_,
  top_n_key_avg_cate_where(d, b, s, 2) OVER w AS top_n_key_avg_,
  top_n_key_count_cate_where(d, b, s, 2) OVER w AS top_n_key_count_,
  top_n_key_max_cate_where(d, b, s, 2) OVER w AS top_n_key_max_,
  top_n_key_min_cate_where(d, b, s, 2) OVER w AS top_n_key_min_,
  top_n_key_ratio_cate(d, d > 1, s, 2) OVER w AS top_n_key_ratio_,
  top_n_key_sum_cate_where(d, b, s, 2) OVER w AS top_n_key_sum_,
  top_n_value_avg_cate_where(d, b, s, 2) OVER w AS top_n_value_avg_,
  top_n_value_count_cate_where(d, b, s, 2) OVER w AS top_n_value_count_,
  top_n_value_max_cate_where(d, b, s, 2) OVER w AS top_n_value_max_,
  top_n_value_min_cate_where(d, b, s, 2) OVER w AS top_n_value_min_,
  top_n_value_ratio_cate(d, d > 1, s, 2) OVER w AS top_n_value_ratio_,
  top_n_value_sum_cate_where(d, b, s, 2) OVER w AS top_n_value_sum_
FROM t
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW);

DEPLOY window_functions
SELECT
  id,
  at(d, 1) OVER w AS at_d,
  first_value(s) OVER w AS first_value_s,
  lag(i32, 2) OVER w AS lag_i32,
  nth_value_where(d, 1, b) OVER w AS nth_value_where_d,
  `join`(window_split(kv, ','), ' ') OVER w AS window_split_,
  `join`(window_split_by_key(kv, ',', ':'), ' ') OVER w AS window_split_by_key_,
  `join`(window_split_by_value(kv, ',', ':'), ' ') OVER w AS window_split_by_value_
FROM t
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW);
