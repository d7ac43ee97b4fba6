// The aether-node dashboard: reads the node's API and draws it with uPlot. No build step: this
// file is embedded as it is (dashboard/embed.cmake) and served at /dashboard/app.js.
"use strict";

const F = {cpu: 0, invocations: 4, latencyP95: 7, errorRate: 9}; // FeatureIndex positions
const MINUTE = 60000;
const COLORS = {actual: "#1d2330", step: ["#2a5db0", "#7b9be0", "#a3b8e8"], latest: "#d4472b",
                requested: "#2a5db0", ready: "#1e7b34", bound: "#8a93a5", floor: "#c2571a",
                ceiling: "#6b4fa0", reactive: "#c2571a", ttm: "#2a5db0"};

const params = new URLSearchParams(location.search);
const refreshMs = Math.max(1000, Number(params.get("refresh")) || 5000);
const REQUEST_TIMEOUT_MS = 15000; // a request with no answer by then fails the refresh
const state = {charts: {}, refreshes: 0, timer: null, busy: false};
const $ = (id) => document.getElementById(id);

async function getJSON(path) {
  let r, text;
  try {  // the timeout covers the body too
    r = await fetch(path, {cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)});
    text = await r.text();
  } catch (e) {
    if (e.name !== "TimeoutError") throw e;
    throw new Error(path + ": no answer within " + REQUEST_TIMEOUT_MS / 1000 + " s");
  }
  if (!r.ok) {
    let msg = text;
    try { msg = JSON.parse(text).error; } catch (e) { /* not JSON: keep the text */ }
    throw new Error(path + ": " + r.status + " " + msg);
  }
  return JSON.parse(text);
}

function fmt(v, digits) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en") : v.toFixed(digits ?? 2);
}

function card(label, value, cls) {
  const d = document.createElement("div");
  d.className = "card" + (cls ? " " + cls : "");
  d.innerHTML = '<div class="label"></div><div class="value"></div>';
  d.querySelector(".label").textContent = label;
  d.querySelector(".value").textContent = value;
  return d;
}

// Forecast-vs-actual error over the range: WAPE of the 1-minute-ahead invocations forecast.
function wape(actualByMinute, forecasts) {
  let err = 0, sum = 0;
  for (const f of forecasts) {
    const a = actualByMinute.get(f.minute);
    const v = f.values[F.invocations];
    if (f.step !== 1 || a === undefined || a === null || v === null) continue;
    err += Math.abs(v - a);
    sum += Math.abs(a);
  }
  return sum > 0 ? err / sum : null;
}

// The forecaster driving the blueprint's forecasts and, under ttm.forecaster = auto, its score
// (recent error relative to persistence's, 1 = as good as repeating the last minute).
function activeForecaster(bpStatus) {
  if (!bpStatus || !bpStatus.forecaster) return "none yet: reactive tier only";
  const sel = bpStatus.selection;
  if (!sel) return bpStatus.forecaster;
  const mine = sel.candidates.find((c) => c.name === sel.active);
  const score = mine && mine.score !== null ? ", score " + fmt(mine.score, 2) : "";
  return sel.active + score + " (auto: " + sel.reason + ")";
}

// "single" without cluster mode; otherwise this node's role, the leader, and etcd's state.
function clusterRole(cluster) {
  if (!cluster.enabled) return "single node (its own leader)";
  const etcd = cluster.etcd && !cluster.etcd.reachable ? "; etcd unreachable" : "";
  const leader = cluster.leader ? ", leader " + cluster.leader : ", no leader";
  const why = cluster.role !== "leader" && cluster.why ? "; " + cluster.why : "";
  return cluster.role + " (" + cluster.name + leader + why + etcd + ")";
}

function renderCards(status, bp, bpStatus, cluster, err) {
  const c = $("cards");
  c.replaceChildren();
  const stateCls = status.state === "RUNNING" ? "good" : status.state === "ERROR" ? "bad" : "";
  c.append(card("TTM state", status.state, stateCls));
  c.append(card("mode", status.mode));
  c.append(card("model", status.active
    ? status.modelPath.split("/").pop() + " (W " + status.inputWindowMinutes + ", H " +
      status.predictionHorizon + ")"
    : "none loaded"));
  c.append(card("active forecaster", activeForecaster(bpStatus)));
  c.append(card("blueprint state", bpStatus ? bpStatus.state : "–"));
  const conf = bpStatus ? bpStatus.confidence : null;
  c.append(card("confidence", fmt(conf, 3),
                conf === null ? "" : conf >= status.confidenceThreshold ? "good" : "bad"));
  c.append(card("skill over persistence", fmt(bpStatus ? bpStatus.skill : null, 3)));
  c.append(card("forecast error (WAPE, 1 min, range)", err === null ? "–" : fmt(err * 100, 1) + " %"));
  c.append(card("instances", bp.requested + " requested, " + bp.ready + " ready (" + bp.min +
                ".." + bp.max + ")"));
  c.append(card("cluster role", clusterRole(cluster),
                cluster.enabled && cluster.etcd && !cluster.etcd.reachable ? "bad" : ""));
  const e = (bpStatus && bpStatus.error) || status.error || bp.error;
  c.append(card("last error", e || "none", e ? "bad" : "good"));
}

function renderDecisions(decisions) {
  const body = $("decisions").querySelector("tbody");
  body.replaceChildren();
  for (const d of decisions) {
    const tr = document.createElement("tr");
    const cells = [new Date(d.timestamp).toISOString().replace("T", " ").slice(0, 19), null,
                   d.action, d.from + " → " + d.to, d.reason, d.result];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      if (i === 1) {
        const s = document.createElement("span");
        s.className = "tier tier-" + d.tier;
        s.textContent = d.tier;
        td.append(s);
      } else {
        td.textContent = text;
      }
      if (i === 4) td.className = "reason";
      if (i === 5) td.className = "result";
      tr.append(td);
    });
    body.append(tr);
  }
}

// Columns for uPlot: one x axis (seconds) over every minute seen, series aligned to it.
function columns(minutes, seriesMaps) {
  const xs = [...minutes].sort((a, b) => a - b);
  return [xs.map((m) => m / 1000), ...seriesMaps.map((map) => xs.map((m) => map.get(m) ?? null))];
}

// Every value drawn is >= 0 (counts, shares, ms, instances): from 0 or a little under the data to
// a little over it, and a visible span when the data is flat (uPlot's own range collapses then).
function yRange(u, min, max) {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const pad = Math.max((max - min) * 0.08, Math.abs(max) * 0.05) || 1;
  return [Math.max(0, min - pad), max + pad];
}

// Tick labels with as many decimals as the tick step needs (0.0019, 0.0020, ...; 2,500, ...).
function axisValues(u, splits) {
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
  const decimals = step > 0 ? Math.min(8, Math.max(0, -Math.floor(Math.log10(step)))) : 0;
  return splits.map((v) => v.toLocaleString("en", {minimumFractionDigits: decimals,
                                                   maximumFractionDigits: decimals}));
}

function drawChart(name, seriesDefs, data) {
  const el = $("chart-" + name);
  const old = state.charts[name];
  const labels = seriesDefs.map((s) => s.label).join("|");
  if (old && old.aetherLabels === labels) {
    old.setData(data);
    return;
  }
  if (old) old.destroy();
  const opts = {
    width: Math.max(300, el.clientWidth || 600), height: 240,
    scales: {x: {time: true}, y: {range: yRange}},
    series: [{}].concat(seriesDefs.map((s) => s.markers
      ? {label: s.label, stroke: s.color, paths: () => null,
         points: {show: true, size: 9, width: 2, stroke: s.color, fill: "#fff"}}
      : {label: s.label, stroke: s.color, width: s.width ?? 1.5, dash: s.dash,
         spanGaps: !!s.spanGaps, points: {show: false}})),
    axes: [{}, {size: 64, values: axisValues}],
    legend: {live: true},
  };
  const u = new uPlot(opts, data, el);
  u.aetherLabels = labels;
  state.charts[name] = u;
}

// The steps shown as their own series: 1 minute ahead, the middle one and H ahead.
function shownSteps(h) {
  return [...new Set([1, Math.ceil(h / 2), h])].filter((s) => s >= 1 && s <= h);
}

// A feature's chart: actual, the forecast at each shown step, and the newest forecast's path.
function featureChart(name, feature, rows, forecasts, horizon) {
  const minutes = new Set();
  const actual = new Map();
  for (const r of rows) {
    minutes.add(r.timestamp);
    actual.set(r.timestamp, r.values[feature]);
  }
  const steps = shownSteps(horizon);
  const byStep = new Map(steps.map((s) => [s, new Map()]));
  let newest = -Infinity;
  for (const f of forecasts) newest = Math.max(newest, f.madeAt);
  const latest = new Map();
  for (const f of forecasts) {
    minutes.add(f.minute);
    const m = byStep.get(f.step);
    if (m) m.set(f.minute, f.values[feature]);
    if (f.madeAt === newest) latest.set(f.minute, f.values[feature]);
  }
  const defs = [{label: "actual", color: COLORS.actual, width: 2}];
  const maps = [actual];
  steps.forEach((s, i) => {
    defs.push({label: "forecast " + s + " min ahead", color: COLORS.step[i], dash: [6, 3]});
    maps.push(byStep.get(s));
  });
  defs.push({label: "newest forecast", color: COLORS.latest, width: 2, spanGaps: true});
  maps.push(latest);
  drawChart(name, defs, columns(minutes, maps));
}

// Requested and ready (minute means), the configured bounds, the floor / ceiling the TTM tier's
// recommendations held (from its decisions: held until the next one), and a marker at each
// change of the requested count, per tier, at the count asked for.
function instancesChart(rows, decisions, bp) {
  const minutes = new Set(rows.map((r) => r.timestamp));
  const requested = new Map(), ready = new Map(), lo = new Map(), hi = new Map();
  const floor = new Map(), ceiling = new Map();
  for (const r of rows) {
    requested.set(r.timestamp, r.requested ?? null);
    ready.set(r.timestamp, r.ready ?? null);
  }
  const ttm = decisions.filter((d) => d.tier === "ttm").sort((a, b) => a.timestamp - b.timestamp);
  const xs = [...minutes].sort((a, b) => a - b);
  let k = -1;
  for (const m of xs) {
    while (k + 1 < ttm.length && ttm[k + 1].timestamp < m + MINUTE) k++;
    lo.set(m, bp.min);
    hi.set(m, bp.max);
    const inputs = k >= 0 ? ttm[k].inputs : {};
    floor.set(m, inputs.floor > 0 ? inputs.floor : null);
    ceiling.set(m, inputs.ceiling > 0 ? inputs.ceiling : null);
  }
  const changes = {reactive: new Map(), ttm: new Map()};
  for (const d of decisions) {
    if (d.from === d.to || !changes[d.tier]) continue;
    const m = Math.floor(d.timestamp / MINUTE) * MINUTE;
    minutes.add(m);
    changes[d.tier].set(m, d.to);
  }
  drawChart("instances", [
    {label: "requested", color: COLORS.requested, width: 2},
    {label: "ready", color: COLORS.ready, width: 2},
    {label: "min_instances", color: COLORS.bound, dash: [2, 4]},
    {label: "max_instances", color: COLORS.bound, dash: [2, 4]},
    {label: "forecast floor", color: COLORS.floor, dash: [6, 3]},
    {label: "forecast ceiling", color: COLORS.ceiling, dash: [6, 3]},
    {label: "reactive change", color: COLORS.reactive, markers: true},
    {label: "ttm change", color: COLORS.ttm, markers: true},
  ], columns(minutes, [requested, ready, lo, hi, floor, ceiling, changes.reactive, changes.ttm]));
}

function fillBlueprints(bps) {
  const sel = $("blueprint");
  const names = bps.map((b) => b.name);
  if ([...sel.options].map((o) => o.value).join() === names.join()) return;
  const keep = sel.value || params.get("blueprint");
  sel.replaceChildren(...names.map((n) => new Option(n, n)));
  if (names.includes(keep)) sel.value = keep;
}

async function refresh() {
  if (state.busy) return;
  state.busy = true;
  try {
    const [status, bps, cluster] = await Promise.all([
      getJSON("/api/ttm/status"), getJSON("/api/blueprints"), getJSON("/api/cluster"),
    ]);
    fillBlueprints(bps);
    const name = $("blueprint").value;
    const bp = bps.find((b) => b.name === name);
    if (!bp) throw new Error("no blueprints are configured");
    const from = Date.now() - Number($("range").value) * 1000;
    const q = "blueprint=" + encodeURIComponent(name) + "&from=" + Math.floor(from / MINUTE) * MINUTE;
    const [hist, fc, decisions] = await Promise.all([
      getJSON("/api/ttm/training-data?" + q),
      getJSON("/api/ttm/forecasts?" + q),
      getJSON("/api/decisions?limit=1000&blueprint=" + encodeURIComponent(name)),
    ]);
    const inRange = decisions.filter((d) => d.timestamp >= from);
    const horizon = status.predictionHorizon;
    const bpStatus = status.blueprints.find((b) => b.name === name);
    const actualInv = new Map(hist.rows.map((r) => [r.timestamp, r.values[F.invocations]]));
    renderCards(status, bp, bpStatus, cluster, wape(actualInv, fc.forecasts));
    featureChart("invocations", F.invocations, hist.rows, fc.forecasts, horizon);
    instancesChart(hist.rows, inRange, bp);
    featureChart("cpu", F.cpu, hist.rows, fc.forecasts, horizon);
    featureChart("latency", F.latencyP95, hist.rows, fc.forecasts, horizon);
    featureChart("errors", F.errorRate, hist.rows, fc.forecasts, horizon);
    renderDecisions(inRange);
    $("error").hidden = true;
    state.refreshes++;
    $("updated").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    document.body.dataset.refreshes = String(state.refreshes);
  } catch (e) {
    $("error").textContent = e.message;
    $("error").hidden = false;
    console.error("dashboard refresh failed:", e.message);
  } finally {
    state.busy = false;
  }
}

function setLive() {
  clearInterval(state.timer);
  state.timer = $("live").checked ? setInterval(refresh, refreshMs) : null;
}

// What each chart holds, for people and tests: series with data and their points.
function summary() {
  const out = {};
  for (const [name, u] of Object.entries(state.charts)) {
    const series = u.series.slice(1).map((s, i) => ({
      label: s.label, points: u.data[i + 1].filter((v) => v !== null && v !== undefined).length}));
    out[name] = {series, x: u.data[0].length, yMin: u.scales.y.min, yMax: u.scales.y.max};
  }
  return out;
}

window.aetherDashboard = {summary, refresh, state};
$("range").addEventListener("change", refresh);
$("blueprint").addEventListener("change", refresh);
$("live").addEventListener("change", setLive);
window.addEventListener("resize", () => {
  for (const [name, u] of Object.entries(state.charts))
    u.setSize({width: Math.max(300, $("chart-" + name).clientWidth), height: 240});
});
if (params.get("range")) $("range").value = params.get("range");
refresh();
setLive();
