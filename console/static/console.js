// fenestra's web console: plain DOM, no framework, no build step. Every
// value shown comes from the server as text and goes into the page as
// text (textContent), never as HTML.
"use strict";

const state = { views: [], keys: [], token: sessionStorage.getItem("fenestra-token") || "", live: null };

// ---- HTTP -------------------------------------------------------------

class HTTPError extends Error {
  constructor(status, body) {
    let msg = body;
    try {
      const j = JSON.parse(body);
      msg = (j.field ? j.field + ": " : "") + (j.error || body);
    } catch (_) { /* not JSON: the text as it is */ }
    super(status + ": " + msg);
    this.status = status;
  }
}

function headers(extra) {
  const h = Object.assign({}, extra);
  if (state.token) h["Authorization"] = "Bearer " + state.token;
  return h;
}

async function getJSON(path) {
  const r = await fetch(path, { headers: headers() });
  const text = await r.text();
  if (!r.ok) throw new HTTPError(r.status, text);
  return JSON.parse(text);
}

// ---- small DOM helpers --------------------------------------------------

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function table(id, head, rows) {
  const t = id instanceof Node ? id : $(id);
  t.replaceChildren(el("tr", {}, ...head.map((h) => el("th", {}, h))));
  for (const r of rows) t.append(el("tr", {}, ...r.map((c) => (c instanceof Node && c.tagName === "TD" ? c : el("td", {}, c)))));
  return t;
}

function showError(id, err) {
  $(id).textContent = err ? String(err.message || err) : "";
}

function utc(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

// ---- pages --------------------------------------------------------------

const pages = ["deployments", "try", "timeline", "live"];

function route() {
  const page = (location.hash.replace(/^#\/?/, "") || "deployments").split("?")[0];
  const name = pages.includes(page) ? page : "deployments";
  for (const p of pages) $("page-" + p).hidden = p !== name;
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("active", a.dataset.page === name);
  if (name === "live") startLive(); else stopLive();
}

async function start() {
  $("logout").hidden = !state.token;
  try {
    const a = await getJSON("/console/api/views");
    state.views = a.views;
    state.keys = a.keys;
  } catch (err) {
    if (err.status === 401) return askToken(state.token ? "That token was refused." : "");
    document.querySelector("main").prepend(el("p", { class: "error" }, String(err.message)));
    return;
  }
  $("login").hidden = true;
  renderDeployments();
  fillViewSelects();
  route();
}

window.addEventListener("hashchange", () => { if ($("login").hidden) route(); });

function askToken(msg) {
  for (const p of pages) $("page-" + p).hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = msg;
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = $("token").value.trim();
  sessionStorage.setItem("fenestra-token", state.token);
  start();
});

$("logout").addEventListener("click", () => {
  sessionStorage.removeItem("fenestra-token");
  state.token = "";
  location.reload();
});

// ---- Deployments ----------------------------------------------------------

const sqlKeywords = new Set(("select from where window as over partition by order rows_range rows between preceding following " +
  "and or not current row last join on deploy create table index key ts ttl ttl_type options union exclude " +
  "current_time instance_not_in_window maxsize case when then else end is null true false in like limit " +
  "group having distinct unbounded open asc desc database use if exists").split(" "));

// highlightSQL returns a <pre> of sql with keywords, functions, strings,
// numbers and comments in spans.
function highlightSQL(sql) {
  const pre = el("pre", { class: "sql" });
  const re = /(--[^\n]*)|('(?:[^'\\]|\\.|'')*')|("(?:[^"\\]|\\.)*")|(\b\d+(?:\.\d+)?[a-z]*\b)|([A-Za-z_][A-Za-z0-9_]*)(?=\s*\()|([A-Za-z_][A-Za-z0-9_]*)|([\s\S])/g;
  let m, plain = "";
  const flush = () => { if (plain) { pre.append(plain); plain = ""; } };
  const span = (cls, text) => { flush(); pre.append(el("span", { class: cls }, text)); };
  while ((m = re.exec(sql)) !== null) {
    if (m[1]) span("com", m[1]);
    else if (m[2] || m[3]) span("str", m[2] || m[3]);
    else if (m[4]) span("num", m[4]);
    else if (m[5]) span(sqlKeywords.has(m[5].toLowerCase()) ? "kw" : "fn", m[5]);
    else if (m[6]) { if (sqlKeywords.has(m[6].toLowerCase())) span("kw", m[6]); else plain += m[6]; }
    else plain += m[7];
  }
  flush();
  return pre;
}

function renderDeployments() {
  const root = $("deployments");
  root.replaceChildren();
  if (state.views.length === 0) root.append(el("p", { class: "hint" }, "No view is served."));
  for (const v of state.views) {
    const card = el("div", { class: "card", "data-view": v.key });
    card.append(el("div", { class: "card-head" },
      el("span", { class: "name" }, v.key), el("code", {}, v.version),
      el("span", { class: "muted" }, "request table " + (v.request_table || "none"))));
    const left = el("div", {}, el("h3", {}, "SQL"),
      v.sql ? highlightSQL(v.sql) : el("p", { class: "hint" }, "(its SQL is not known to this server)"));
    const right = el("div", {});
    right.append(el("h3", {}, "Output"));
    right.append(table(el("table", { class: "grid small" }), ["column", "type"], v.output.map((c) => [c.name, typeCell(c.type)])));
    left.append(el("h3", {}, "Aggregates"));
    if (v.aggregates.length === 0) left.append(el("p", { class: "hint" }, "none"));
    else left.append(table(el("table", { class: "grid small aggs" }), ["aggregate", "window", "served from", "why"],
      v.aggregates.map((a) => [el("td", { class: "mono" }, a.expr), a.window,
        el("td", {}, el("span", { class: "badge " + (a.source === "tiles" ? "tiles" : "raw") }, a.source)), a.why || ""])));
    right.append(el("h3", {}, "Tables and indexes"));
    right.append(table(el("table", { class: "grid small" }), ["table", "index (keys, ts)", "ttl"],
      v.tables.flatMap((t) => (t.indexes.length ? t.indexes : [null]).map((ix, i) => [
        i === 0 ? el("td", { title: t.columns.map((c) => c.name + " " + c.type).join(", ") }, t.name) : "",
        ix ? ix.keys.join(", ") + (ix.ts ? " · " + ix.ts : "") : "(no index)", ix ? ix.ttl : ""]))));
    right.append(el("h3", {}, "Reads per request"));
    right.append(table(el("table", { class: "grid small" }), ["table", "by", "for"],
      v.reads.map((r) => [r.table, (r.keys.join(", ") || "(whole table)") + (r.ts ? " · " + r.ts : ""), r.why])));
    card.append(el("div", { class: "cols" }, left, right));
    root.append(card);
  }
}

function typeCell(t) { return el("td", { class: "type" }, t); }

function fillViewSelects() {
  for (const id of ["try-view", "tl-view"]) {
    const s = $(id);
    s.replaceChildren(...state.views.map((v) => el("option", { value: v.key }, v.key)));
  }
  const key = state.keys[0] || "";
  $("try-key-value").value = key;
  $("tl-key").value = key;
}

function viewOf(key) { return state.views.find((v) => v.key === key); }

// ---- Try a request ----------------------------------------------------------

$("try-key").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError("try-error", null);
  $("try-answer").hidden = true;
  const view = $("try-view").value;
  try {
    const s = await getJSON("/console/api/views/" + encodeURIComponent(view) + "/sample?key=" + encodeURIComponent($("try-key-value").value));
    renderTryForm(s);
  } catch (err) {
    $("try-form").hidden = true;
    showError("try-error", err);
  }
});

function renderTryForm(s) {
  const rows = s.columns.map((c, i) => {
    const lit = s.literals[i];
    const isNull = lit === "null";
    const text = isNull ? "" : (lit.startsWith('"') ? JSON.parse(lit) : lit);
    const input = el("input", { class: "value", value: text, name: c.name });
    input.dataset.type = c.type;
    const nul = el("input", { type: "checkbox", checked: isNull, name: c.name + ".null" });
    return [el("td", { class: "mono" }, c.name), typeCell(c.type), el("td", {}, input), el("td", {}, el("label", {}, nul, " NULL"))];
  });
  table("try-fields", ["column", "type", "value", ""], rows);
  $("try-form").dataset.view = s.view;
  $("try-form").hidden = false;
}

// literal returns the JSON text of a form field's value.
function literal(name, type, text, isNull) {
  if (isNull) return "null";
  const t = type.toLowerCase();
  if (t === "string") return JSON.stringify(text);
  if (/^int(16|32|64)$/.test(t) || t === "smallint" || t === "bigint" || t === "int") {
    if (!/^-?\d+$/.test(text.trim())) throw new Error(name + ": " + JSON.stringify(text) + " is not an integer");
    return text.trim();
  }
  if (t === "double" || t === "float") {
    if (/^(NaN|Inf|-Inf)$/.test(text.trim())) return JSON.stringify(text.trim());
    if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text.trim())) throw new Error(name + ": " + JSON.stringify(text) + " is not a number");
    return text.trim();
  }
  if (t === "bool") {
    if (!/^(true|false)$/.test(text.trim())) throw new Error(name + ": write true or false");
    return text.trim();
  }
  if (t === "timestamp" && /^-?\d+$/.test(text.trim())) return text.trim();
  if (t === "timestamp" || t === "date") return JSON.stringify(text.trim());
  return text; // arrays and maps: JSON as written
}

$("try-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError("try-error", null);
  const view = $("try-form").dataset.view;
  let body;
  try {
    const parts = [];
    for (const input of $("try-fields").querySelectorAll("input.value")) {
      const nul = $("try-fields").querySelector('input[name="' + CSS.escape(input.name + ".null") + '"]');
      parts.push(JSON.stringify(input.name) + ":" + literal(input.name, input.dataset.type, input.value, nul.checked));
    }
    body = '{"rows":[{' + parts.join(",") + "}]}";
  } catch (err) {
    return showError("try-error", err);
  }
  const r = await fetch("/v1/views/" + encodeURIComponent(view) + ":compute",
    { method: "POST", headers: headers({ "Content-Type": "application/json" }), body });
  const text = await r.text();
  if (!r.ok) return showError("try-error", new HTTPError(r.status, text));
  renderAnswer(body, text, r.headers.get("Server-Timing") || "");
});

// firstRowLiterals returns the JSON text of each value of the first row
// of a compute answer, as the server wrote it (no number is re-printed).
function firstRowLiterals(text) {
  const i = text.indexOf('"rows":[');
  if (i < 0) return null;
  let p = i + '"rows":['.length;
  while (/\s/.test(text[p])) p++;
  if (text[p] !== "[") return null; // a filtered row: null
  p++;
  const out = [];
  let depth = 0, start = p, inStr = false;
  for (; p < text.length; p++) {
    const ch = text[p];
    if (inStr) {
      if (ch === "\\") p++;
      else if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') inStr = true;
    else if (ch === "[" || ch === "{") depth++;
    else if ((ch === "]" || ch === "}") && depth > 0) depth--;
    else if (ch === "," && depth === 0) { out.push(text.slice(start, p).trim()); start = p + 1; }
    else if (ch === "]" && depth === 0) { if (p > start || out.length) out.push(text.slice(start, p).trim()); break; }
  }
  return out;
}

function renderAnswer(body, text, timing) {
  const a = JSON.parse(text);
  const lits = firstRowLiterals(text);
  const t = $("answer");
  t.dataset.request = body;
  t.dataset.response = text;
  if (!lits) {
    table(t, ["feature", "type", "value"], [["(the view's WHERE filtered the row out)", "", ""]]);
  } else {
    table(t, ["feature", "type", "value"], a.columns.map((c, i) =>
      [el("td", { class: "mono" }, c.name), typeCell(c.type), el("td", { class: "mono value", "data-col": c.name }, lits[i])]));
  }
  $("try-status").textContent = a.view + " " + a.version;
  $("try-timing").textContent = timing;
  $("try-answer").hidden = false;
}

// ---- A key over time -----------------------------------------------------------

const palette = ["#2f6fdf", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#e67700", "#5c940d", "#364fc7", "#a61e4d"];
const numericTypes = new Set(["int16", "int32", "int64", "float", "double", "smallint", "int", "bigint", "bool"]);

function toUTCInput(ms) { return new Date(ms).toISOString().slice(0, 19); }
function fromUTCInput(s) { return Date.parse(s + (s.length === 16 ? ":00Z" : "Z")); }

$("tl-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError("tl-error", null);
  const view = $("tl-view").value;
  let q = "?key=" + encodeURIComponent($("tl-key").value);
  const from = $("tl-from").value, to = $("tl-to").value;
  if (from || to) {
    if (!from || !to) return showError("tl-error", "from: give both from and to, or neither");
    q += "&from=" + fromUTCInput(from) + "&to=" + fromUTCInput(to);
  }
  $("tl-result").hidden = true;
  try {
    const a = await getJSON("/console/api/views/" + encodeURIComponent(view) + "/timeline" + q);
    renderTimeline(a);
  } catch (err) {
    showError("tl-error", err);
  }
});

let tlCharts = [];

function renderTimeline(a) {
  for (const u of tlCharts) u.destroy();
  tlCharts = [];
  $("tl-from").value = toUTCInput(a.from);
  $("tl-to").value = toUTCInput(a.to);
  $("tl-result").hidden = false;
  const key = a.keys.map((k, i) => k + " = " + a.key[i]).join(", ");
  $("tl-meta").textContent = a.times.length + " events of " + key + " in " + a.table + ", " + utc(a.from) + " to " + utc(a.to) +
    " UTC; view " + a.view + " " + a.version;
  const events = a.events;
  const values = a.values;
  const xs = a.times.map((t) => t / 1000);

  // The events: one numeric column of the request table, as points.
  const numCols = a.columns.map((c, i) => ({ c, i })).filter(({ c }) => numericTypes.has(c.type) && c.name !== a.ts);
  const sel = $("tl-event-col");
  const prev = sel.value;
  sel.replaceChildren(...numCols.map(({ c, i }) => el("option", { value: i }, c.name)));
  const preferred = numCols.find(({ c }) => c.name === prev) || numCols.find(({ c }) => c.type === "double" || c.type === "float") || numCols[0];
  if (preferred) sel.value = preferred.i;
  const drawEvents = () => {
    const col = Number(sel.value);
    $("tl-events").replaceChildren();
    if (!numCols.length) return;
    const ys = events.map((e) => (e && typeof e[col] === "number" ? e[col] : null));
    tlCharts.push(chart($("tl-events"), a.columns[col].name, xs, [ys], [a.columns[col].name], 180, true));
  };
  sel.onchange = () => { tlCharts = tlCharts.filter((u) => u.root.parentNode !== $("tl-events") || (u.destroy(), false)); drawEvents(); };
  drawEvents();

  // The features: one small chart per numeric feature.
  const fc = $("tl-features");
  fc.replaceChildren();
  a.features.forEach((f, j) => {
    if (!numericTypes.has(f.type) || passesThrough(a, f, j)) return;
    const ys = values.map((row) => (row && typeof row[j] === "number" ? row[j] : (row && typeof row[j] === "boolean" ? Number(row[j]) : null)));
    const box = el("div", { class: "chart feature", "data-feature": f.name });
    box.append(el("h3", {}, f.name + " ", el("span", { class: "type" }, f.type)));
    fc.append(box);
    tlCharts.push(chart(box, f.name, xs, [ys], [f.name], 160, false, palette[j % palette.length]));
  });

  // The data behind every chart: a row per event.
  const head = ["time (UTC)"].concat(a.features.map((f) => f.name));
  table("tl-data", head, a.times.map((t, i) => [utc(t)].concat(a.features.map((f, j) => {
    const v = values[i] ? values[i][j] : null;
    return v === null ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v);
  }))));
  $("tl-data").dataset.points = String(a.times.length);
}

// passesThrough reports whether feature j is, at every event, the
// event's column of the same name (an id the view passes through): it is
// in the data table, not charted.
function passesThrough(a, f, j) {
  const col = a.columns.findIndex((c) => c.name === f.name);
  return col >= 0 && a.events.length > 0 &&
    a.events.every((e, i) => a.values[i] !== null && JSON.stringify(e[col]) === JSON.stringify(a.values[i][j]));
}

// chart draws a uPlot chart of series over xs (seconds) into box, and
// records on box how many points it plots (data-points).
function chart(box, title, xs, series, labels, height, pointsOnly, color) {
  const width = Math.max(300, box.clientWidth - 12);
  const opts = {
    width, height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    legend: { show: !pointsOnly },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true } },
    series: [{ label: "time (UTC)" }].concat(series.map((_, i) => ({
      label: labels[i],
      stroke: color || palette[i % palette.length],
      width: pointsOnly ? 0 : 1.5,
      paths: pointsOnly ? () => null : undefined,
      points: { show: true, size: pointsOnly ? 6 : 4, fill: color || palette[i % palette.length] },
      spanGaps: false,
    }))),
    axes: [{}, { size: 60 }],
  };
  const u = new uPlot(opts, [xs].concat(series), box);
  box.dataset.points = String(u.data[0].length);
  return u;
}

// ---- Live ---------------------------------------------------------------------

const liveHistory = 100; // polls kept for the charts

function startLive() {
  if (state.live) return;
  state.live = { timer: null, at: [], rate: {}, p99: {}, charts: null };
  const poll = async () => {
    try {
      renderLive(await getJSON("/console/api/live"));
      showError("live-error", null);
    } catch (err) {
      showError("live-error", err);
    }
  };
  poll();
  state.live.timer = setInterval(poll, 3000);
}

function stopLive() {
  if (!state.live) return;
  clearInterval(state.live.timer);
  if (state.live.charts) state.live.charts.forEach((u) => u.destroy());
  state.live = null;
  $("live-charts").replaceChildren();
}

const fmt = (v, d) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));

function renderLive(a) {
  const L = state.live;
  if (!L) return;
  $("live-window").textContent = a.seconds > 0 ? a.seconds.toFixed(1) + " s" : "(first sample: totals since the start)";
  table("live-views", ["view", "requests", "per second", "p50 ms", "p90 ms", "p99 ms", "4xx", "5xx", "tiles read"],
    a.views.map((v) => [v.view, cellNum(v.requests, 0), cellNum(v.rate, 1), cellNum(v.p50_ms, 2), cellNum(v.p90_ms, 2),
      cellNum(v.p99_ms, 2), cellNum(v.errors_4xx, 0), cellNum(v.errors_5xx, 0), cellNum(v.tiles_read, 0)]));
  $("live-stream").hidden = !a.stream;
  $("live-nostream").hidden = !!a.stream;
  if (a.stream) {
    const s = a.stream;
    table("live-stream-table", ["records read", "per second", "rows written", "lag (records)", "freshness p50 ms", "freshness p99 ms", "bad records"],
      [[cellNum(s.records_read, 0), cellNum(s.read_rate, 1), cellNum(s.rows_written, 0), cellNum(s.lag_records, 0),
        cellNum(s.freshness_p50_ms, 1), cellNum(s.freshness_p99_ms, 1), cellNum(s.bad_records, 0)]]);
  }
  // Charts of the polls' answers, as they came.
  L.at.push(a.at / 1000);
  for (const v of a.views) {
    (L.rate[v.view] = L.rate[v.view] || []).push(v.rate);
    (L.p99[v.view] = L.p99[v.view] || []).push(v.p99_ms);
  }
  if (L.at.length > liveHistory) {
    L.at.shift();
    for (const k of Object.keys(L.rate)) { L.rate[k].shift(); L.p99[k].shift(); }
  }
  const names = a.views.map((v) => v.view);
  if (!L.charts) {
    const box1 = el("div", { class: "chart" }, el("h3", {}, "requests per second"));
    const box2 = el("div", { class: "chart" }, el("h3", {}, "p99 latency, ms"));
    $("live-charts").replaceChildren(box1, box2);
    L.charts = [chart(box1, "rate", L.at, names.map((n) => L.rate[n]), names, 180, false),
      chart(box2, "p99", L.at, names.map((n) => L.p99[n]), names, 180, false)];
  } else {
    L.charts[0].setData([L.at].concat(names.map((n) => L.rate[n])));
    L.charts[1].setData([L.at].concat(names.map((n) => L.p99[n])));
  }
}

function cellNum(v, d) { return el("td", { class: "num" }, fmt(v, d)); }

start();
