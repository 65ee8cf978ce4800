// ragproxy status page: polls state.json (relative: works under any
// mount) and renders it. Every value goes in as text (textContent),
// never as markup, so a path or name holding <script> shows as text.
"use strict";

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function fill(id, items, render) {
  const body = document.querySelector("#" + id + " tbody");
  const rows = items.map((it) => { const tr = document.createElement("tr"); render(tr, it); return tr; });
  body.replaceChildren(...rows);
}

function pct(x) { return x === undefined || x === null ? "–" : (100 * x).toFixed(1) + "%"; }
function usd(x) { return "$" + (x >= 0.01 ? x.toFixed(4) : x.toPrecision(3)); }
// cost is what an answer cost, or on a cache hit what it saved.
function cost(r) {
  if (r.cost_usd === undefined) return r.input_tokens === undefined ? "" : "unpriced";
  return r.saved_usd ? "saved " + usd(r.saved_usd) : usd(r.cost_usd);
}
function mib(b) { return (b / 1048576).toFixed(1) + " MiB"; }

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = String(text);
  return el;
}

// experimentChart draws each variant's error rate with its 95% interval
// (normal approximation) and p50/p95 latency, side by side.
function experimentChart(exp) {
  const box = document.createElement("div");
  box.className = "experiment";
  const title = document.createElement("h3");
  title.textContent = exp.name + " (control: " + exp.control + ")";
  box.appendChild(title);
  const vs = exp.variants || [];
  const w = 520, rowH = 34, h = 30 + rowH * vs.length;
  const chart = svg("svg", { width: w, height: h, role: "img" });
  chart.appendChild(svg("text", { x: 150, y: 14, "font-size": 11 }, "error rate (95% interval)"));
  chart.appendChild(svg("text", { x: 360, y: 14, "font-size": 11 }, "latency p50 / p95 ms"));
  const maxErr = Math.max(0.01, ...vs.map((v) => errInterval(v)[1]));
  const maxLat = Math.max(1, ...vs.map((v) => (v.latency_ms || {}).p95 || 0));
  vs.forEach((v, i) => {
    const y = 24 + i * rowH;
    chart.appendChild(svg("text", { x: 0, y: y + 14, "font-size": 12 }, v.name + " (" + v.requests + ")"));
    const [lo, hi] = errInterval(v);
    const sx = (x) => 150 + (180 * x) / maxErr;
    chart.appendChild(svg("rect", { x: 150, y: y + 4, width: Math.max(1, sx(v.error_rate || 0) - 150), height: 12, fill: "#93c5fd" }));
    chart.appendChild(svg("line", { x1: sx(lo), x2: sx(hi), y1: y + 10, y2: y + 10, stroke: "#1e3a8a", "stroke-width": 2 }));
    const lx = (x) => 360 + (150 * x) / maxLat;
    const lat = v.latency_ms || {};
    chart.appendChild(svg("rect", { x: 360, y: y + 4, width: Math.max(1, lx(lat.p95 || 0) - 360), height: 12, fill: "#fcd34d" }));
    chart.appendChild(svg("rect", { x: 360, y: y + 4, width: Math.max(1, lx(lat.p50 || 0) - 360), height: 12, fill: "#f59e0b" }));
  });
  box.appendChild(chart);
  for (const c of exp.comparisons || []) {
    const p = document.createElement("div");
    const t = c.error_rate || {};
    p.textContent = c.variant + " vs " + c.control + ": error rate " + (t.diff >= 0 ? "+" : "") + pct(t.diff) +
      ", p = " + (t.p_value === undefined ? "– (" + (t.reason || "not computable") + ")" : t.p_value.toPrecision(3));
    if (t.significant) p.className = "significant";
    box.appendChild(p);
  }
  return box;
}

function errInterval(v) {
  const n = v.requests || 0, p = v.error_rate || 0;
  if (n === 0) return [0, 0];
  const half = 1.96 * Math.sqrt((p * (1 - p)) / n);
  return [Math.max(0, p - half), Math.min(1, p + half)];
}

function render(s) {
  fill("breakers", s.breakers, (tr, b) => {
    cell(tr, b.name);
    cell(tr, b.state + (b.forced_open ? " (forced)" : ""), "state-" + b.state);
    cell(tr, b.recent_failures, "num");
    cell(tr, b.opened_at ? new Date(b.opened_at).toLocaleTimeString() : "");
    // Its latest state changes, newest first, one a line.
    cell(tr, (b.transitions || []).map((x) => new Date(x.time).toLocaleTimeString() + "  " + x.from + " \u2192 " + x.to).join("\n"), "transitions");
  });
  fill("caches", s.caches, (tr, c) => {
    const l = c.lookups || {};
    cell(tr, c.name); cell(tr, c.entries, "num"); cell(tr, mib(c.bytes), "num"); cell(tr, pct(c.hit_rate), "num");
    for (const k of ["hit", "semantic", "coalesced", "stale", "miss", "bypass"]) cell(tr, l[k] || 0, "num");
  });
  fill("zones", s.zones, (tr, z) => {
    cell(tr, z.name); cell(tr, z.keys, "num"); cell(tr, z.allowed, "num"); cell(tr, z.limited, "num"); cell(tr, z.evicted, "num");
  });
  document.getElementById("experiments").replaceChildren(...s.experiments.map(experimentChart));
  fill("recent", s.recent, (tr, r) => {
    cell(tr, new Date(r.time).toLocaleTimeString()); cell(tr, r.method); cell(tr, r.path, "path"); cell(tr, r.status, "num");
    cell(tr, r.cache_status); cell(tr, r.upstream); cell(tr, r.variant);
    cell(tr, r.input_tokens === undefined ? "" : r.input_tokens + " / " + r.output_tokens, "num");
    cell(tr, cost(r), "num"); cell(tr, r.duration_ms.toFixed(1), "num");
  });
  document.getElementById("updated").textContent = "updated " + new Date(s.time).toLocaleTimeString();
}

async function poll() {
  try {
    const resp = await fetch("state.json", { cache: "no-store" });
    if (resp.ok) render(await resp.json());
    else document.getElementById("updated").textContent = "state.json: HTTP " + resp.status;
  } catch (e) {
    document.getElementById("updated").textContent = "unreachable: " + e.message;
  }
  setTimeout(poll, 1000);
}
poll();
