/* Reports page (DOMAIN 9): statistics for a period and filter, charts drawn here as inline SVG,
   every number a link to the rows behind it. Text from the server only goes through textContent. */
"use strict";
(() => {
  const { t, api, el, fill, label, boot } = LW;
  const svgNS = "http://www.w3.org/2000/svg";
  const DEADLINES = ["accept", "contact", "on_site", "locate", "recover"];
  const form = document.getElementById("report-filters");
  const field = (name) => document.getElementById("f-" + name);
  let current = null; // the query string of the figures on screen

  const causeLabel = (key) => (key === "unknown" ? t("cat_unknown") : label("cause", key));
  const pct = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(2) + "%");
  const num = (x) => (x === null || x === undefined ? "—" : String(x));

  function options(select, kind, values) {
    fill(select, el("option", { value: "", text: t("any") }),
      values.map((v) => el("option", { value: v, text: label(kind, v) })));
  }

  function query() {
    const params = new URLSearchParams();
    const from = field("from").value, to = field("to").value, month = field("month").value;
    if (from && to) { params.set("from", from); params.set("to", to); }
    else { params.set("from", month); params.set("to", month); }
    for (const name of ["region", "customer", "contractor", "service_type", "access", "cause"]) {
      const value = field(name).value.trim();
      if (value) params.set(name, value);
    }
    return params;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Horizontal bars: one row a key, the bar a link to that key's rows.
  function barChart(target, entries, view, fmt) {
    const rowH = 22, labelW = 120, valueW = 50, width = 380;
    const max = Math.max(1, ...entries.map((e) => e.value));
    const root = svg("svg", { viewBox: `0 0 ${width} ${Math.max(1, entries.length) * rowH + 4}`, role: "img", "data-view": view });
    if (!entries.length) root.append(svg("text", { x: 4, y: 16, class: "muted" }, t("no_items")));
    entries.forEach((e, i) => {
      const y = i * rowH + 2;
      const w = ((width - labelW - valueW) * e.value) / max;
      const link = svg("a", { href: "#", "data-key": e.key, "data-view": view, class: "bar" });
      link.append(svg("text", { x: labelW - 6, y: y + 15, "text-anchor": "end" }, e.label));
      link.append(svg("rect", { x: labelW, y: y + 3, width: Math.max(w, 1), height: rowH - 6, class: "bar-rect" }));
      link.append(svg("text", { x: labelW + w + 6, y: y + 15, class: "value" }, (fmt || num)(e.value)));
      link.addEventListener("click", (ev) => { ev.preventDefault(); drill(view, e.key, e.label); });
      root.append(link);
    });
    fill(target, root);
  }

  // Columns over time (trend): label every few columns so they stay legible.
  function columnChart(target, entries, view) {
    const width = 380, height = 170, base = 145, gap = 2, left = 16;
    const max = Math.max(1, ...entries.map((e) => e.value));
    const colW = Math.max(2, (width - 2 * left) / Math.max(1, entries.length) - gap);
    const every = Math.ceil(entries.length / 12);
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-view": view });
    root.append(svg("line", { x1: 0, y1: base, x2: width, y2: base, class: "axis" }));
    entries.forEach((e, i) => {
      const x = left + i * (colW + gap);
      const h = ((base - 20) * e.value) / max;
      const link = svg("a", { href: "#", "data-key": e.key, "data-view": view, class: "bar" });
      link.append(svg("rect", { x, y: base - h, width: colW, height: Math.max(h, 0.5), class: "bar-rect" }));
      if (e.value) link.append(svg("text", { x: x + colW / 2, y: base - h - 4, "text-anchor": "middle", class: "value" }, String(e.value)));
      link.append(svg("title", {}, `${e.key}: ${e.value}`));
      link.addEventListener("click", (ev) => { ev.preventDefault(); drill(view, e.key, e.key); });
      root.append(link);
      if (i % every === 0) root.append(svg("text", { x: x + colW / 2, y: base + 16, "text-anchor": "middle" }, e.key.slice(5) || e.key));
    });
    fill(target, root);
  }

  const entries = (counts, kind) => Object.entries(counts).map(([key, value]) => ({ key, value, label: kind === "cause" ? causeLabel(key) : kind ? label(kind, key) : key }))
    .sort((a, b) => b.value - a.value || a.key.localeCompare(b.key));

  function link(text, view, key, title) {
    return el("a", { href: "#", class: "count", dataset: { view, key: key || "" }, text, onclick: (ev) => { ev.preventDefault(); drill(view, key, title); } });
  }

  function render(fig) {
    document.getElementById("period-label").textContent = fig.period.label;
    const tiles = [
      ["fault_total", num(fig.faults.total), "faults"],
      ["mttr", num(fig.mttr_minutes), "mttr"],
      ["availability", pct(fig.availability.overall), "availability"],
      ["diagnosis_rate", pct(fig.diagnosis_on_time_rate), "diagnosis"],
      ["repeat_rate", pct(fig.repeat_fault_rate), "repeat_faults"],
    ];
    fill("tiles", tiles.map(([key, value, view]) => el("div", { class: "tile", dataset: { view }, onclick: () => drill(view, null, t(key)) },
      el("span", { class: "num", text: value }), el("span", { class: "label", text: t(key) }))));
    barChart("chart-region", entries(fig.faults.by_region), "by_region");
    const trend = Object.entries(fig.trend).map(([key, value]) => ({ key, value }));
    document.getElementById("trend-title").textContent = t(trend.length && trend[0].key.length === 7 ? "by_month" : "by_day");
    columnChart("chart-trend", trend, "trend");
    barChart("chart-cause", entries(fig.faults.by_cause, "cause"), "by_cause");
    barChart("chart-service", entries(fig.faults.by_service_type, "service_type"), "by_service_type");
    barChart("chart-contractor", entries(fig.faults.by_contractor), "by_contractor");
    barChart("chart-nes", fig.top_nes.map((r) => ({ key: r.key, value: r.faults, label: r.key })), "by_ne");
    barChart("chart-customers", fig.top_customers.map((r) => ({ key: r.key, value: r.faults, label: r.key })), "by_customer");
    fill("sla-rows", DEADLINES.map((name) => el("tr", { dataset: { deadline: name } },
      el("td", { text: t("dl_" + name) }),
      el("td", { class: "num" }, link(pct(fig.sla_compliance[name]), "sla_" + name, null, t("dl_" + name))),
      el("td", {}, Object.entries(fig.timeout_reasons[name] || {}).flatMap(([cause, n]) =>
        [link(`${causeLabel(cause)} ${n}`, "timeouts_" + name, cause, `${t("dl_" + name)} · ${causeLabel(cause)}`), " "])))));
    fill("league-rows", fig.contractor_league.map((r) => el("tr", {},
      el("td", { class: "num", text: String(r.rank) }), el("td", {}, link(r.team, "league", r.team, r.team)),
      el("td", { class: "num", text: String(r.tickets) }), el("td", { class: "num", text: pct(r.sla_compliance) }),
      el("td", { class: "num", text: String(r.breaches) }), el("td", { class: "num", text: num(r.mean_minutes_to_recover) }))));
  }

  function exportLinks(params) {
    const xlsx = new URLSearchParams(params); xlsx.set("format", "xlsx");
    document.getElementById("export").href = "/api/v1/reports/statistics?" + xlsx;
    const monthly = document.getElementById("export-monthly");
    const month = params.get("from");
    if (month === params.get("to") && /^\d{4}-\d{2}$/.test(month)) {
      const m = new URLSearchParams(xlsx); m.delete("from"); m.delete("to"); m.set("month", month);
      monthly.href = "/api/v1/reports/monthly?" + m;
      monthly.hidden = false;
    } else monthly.hidden = true;
  }

  async function load() {
    const params = query();
    const error = document.getElementById("report-error");
    error.textContent = "";
    try {
      const fig = await api("GET", "/api/v1/reports/statistics?" + params);
      current = params;
      render(fig);
      exportLinks(params);
      document.getElementById("drill").hidden = true;
    } catch (e) {
      error.textContent = e.message;
    }
    document.body.dataset.ready = "1";
  }

  function cell(column, value) {
    if (value === null || value === undefined) return el("td", { class: "muted", text: "—" });
    if (column === "incident") return el("td", {}, el("a", { href: "/incidents/" + value, text: "#" + value }));
    if (column === "ticket") return el("td", {}, el("a", { href: "/tickets/" + value, text: "#" + value }));
    return el("td", { text: typeof value === "boolean" ? t(value ? "yes" : "no") : String(value) });
  }

  async function drill(view, key, title) {
    if (!current) return;
    const params = new URLSearchParams(current);
    params.set("view", view); params.set("limit", "500");
    if (key) params.set("key", key);
    const box = document.getElementById("drill");
    const page = await api("GET", "/api/v1/reports/statistics/rows?" + params);
    document.getElementById("drill-title").textContent = title || key || view;
    box.dataset.view = view; box.dataset.key = key || "";
    const columns = page.items.length ? Object.keys(page.items[0]) : [];
    fill("drill-head", el("tr", {}, columns.map((c) => el("th", { text: t(c) }))));
    fill("drill-rows", page.items.map((row) => el("tr", {}, columns.map((c) => cell(c, row[c])))));
    document.getElementById("drill-count").textContent = page.count > page.items.length
      ? `${page.count} ${t("more_rows")} ${page.items.length}` : `${page.count}`;
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  options(field("service_type"), "service_type", Object.keys(boot.labels.service_type));
  options(field("access"), "access", Object.keys(boot.labels.access));
  options(field("cause"), "cause", [...Object.keys(boot.labels.cause), "unknown"]);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  document.getElementById("this-month").addEventListener("click", () => {
    field("month").value = boot.month; field("from").value = ""; field("to").value = ""; load();
  });
  document.getElementById("last-year").addEventListener("click", () => {
    const [y, m] = boot.month.split("-").map(Number);
    const first = new Date(Date.UTC(y, m - 12, 1)).toISOString().slice(0, 7);
    field("from").value = first + "-01";
    field("to").value = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
    load();
  });
  document.getElementById("print").addEventListener("click", () => window.print());
  document.getElementById("drill-close").addEventListener("click", () => { document.getElementById("drill").hidden = true; });
  load();
})();
