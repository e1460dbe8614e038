/* Linewatch shared page helpers: API calls with CSRF, safe DOM building, server clock, live stream.
   Device-supplied text only ever goes through textContent (el() children), never innerHTML. */
"use strict";
const LW = (() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute("content") : "";
  const zh = boot.lang === "zh";
  const t = (key) => (key in boot.messages ? boot.messages[key] : key);
  const label = (kind, value) => (boot.labels[kind] && boot.labels[kind][value]) || value;

  async function api(method, path, body) {
    const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const response = await fetch(path, opts);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (!response.ok) {
      const err = new Error((data && data.error) || response.statusText);
      err.status = response.status;
      err.body = data;
      throw err;
    }
    return data;
  }

  async function all(path, cap = 5000) {
    const items = [];
    let cursor = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const page = await api("GET", path + sep + "limit=1000" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && items.length < cap);
    return items;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fill(target, ...children) {
    const node = typeof target === "string" ? document.getElementById(target) : target;
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
    return node;
  }

  let offset = 0;
  async function syncClock() {
    try {
      const h = await api("GET", "/healthz");
      offset = Date.parse(h.time) - Date.now();
    } catch (e) { /* keep the last offset */ }
  }
  const now = () => Date.now() + offset;
  const tz = "Asia/Shanghai";
  function fmtTime(iso, withDate) {
    if (!iso) return "";
    const d = new Date(iso);
    const opts = { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    if (withDate) { opts.month = "2-digit"; opts.day = "2-digit"; }
    return d.toLocaleString(zh ? "zh-CN" : "en-GB", opts);
  }
  function fmtDuration(seconds) {
    const s = Math.max(0, Math.floor(Math.abs(seconds)));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return (seconds < 0 ? "-" : "") + (h ? h + ":" + two(m) + ":" + two(r) : two(m) + ":" + two(r));
  }

  function toast(text, bad) {
    let box = document.getElementById("toasts");
    if (!box) { box = el("div", { id: "toasts", class: "toasts" }); document.body.append(box); }
    const item = el("div", { class: "toast" + (bad ? " bad" : ""), role: "status", text });
    box.append(item);
    setTimeout(() => item.remove(), 4000);
  }

  /* The live stream: EventSource resumes with Last-Event-ID by itself; if the browser gives up
     (server away), we open a new one carrying the last id so nothing is lost. */
  function live(handlers) {
    let lastId = null, source = null, timer = null;
    const status = (ok) => {
      document.body.dataset.live = ok ? "1" : "0";
      const node = document.getElementById("conn");
      if (node) { node.textContent = ok ? t("live") : t("offline"); node.classList.toggle("bad", !ok); }
    };
    // what the stream has delivered, for the page's tests: the last event id and resyncs seen
    const seen = (id) => { lastId = id; document.body.dataset.lastEvent = String(id); };
    const resync = () => {
      document.body.dataset.resyncs = String(Number(document.body.dataset.resyncs || 0) + 1);
      if (handlers.resync) handlers.resync();
    };
    function open() {
      const url = "/api/v1/stream" + (lastId !== null ? "?last_event_id=" + lastId : "");
      source = new EventSource(url);
      source.addEventListener("open", () => status(true));
      source.addEventListener("error", () => {
        status(false);
        if (source.readyState === EventSource.CLOSED && !timer) {
          timer = setTimeout(() => { timer = null; open(); }, 2000);
        }
      });
      source.addEventListener("hello", (e) => {
        const data = JSON.parse(e.data);
        if (lastId === null || !data.resumed) resync();
        if (lastId === null) seen(data.last_id);
      });
      source.addEventListener("resync", resync);
      for (const name of ["incidents", "alarms", "ack"]) {
        source.addEventListener(name, (e) => {
          if (e.lastEventId) seen(Number(e.lastEventId));
          const data = JSON.parse(e.data);
          if (handlers[name]) handlers[name](data);
          if (handlers.any) handlers.any(name, data);
        });
      }
    }
    open();
  }

  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  /* A circuit route drawn hop by hop (SVG, text via textContent); failed(hop) marks a hop red. */
  function drawRoute(name, hops, aEnd, zEnd, failed) {
    const svgNS = "http://www.w3.org/2000/svg";
    const nodes = [{ ne: "A", site: aEnd || "" }, ...hops, { ne: "Z", site: zEnd || "" }];
    const w = 150, gap = 40, h = 64;
    const svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("viewBox", `0 0 ${nodes.length * (w + gap)} ${h + 10}`);
    svg.setAttribute("class", "route " + name);
    nodes.forEach((hop, i) => {
      const x = i * (w + gap) + 5;
      const bad = i > 0 && i < nodes.length - 1 && failed(hop);
      const g = document.createElementNS(svgNS, "g");
      g.setAttribute("class", "hop" + (bad ? " failed" : "") + (i === 0 || i === nodes.length - 1 ? " end" : ""));
      if (bad) g.setAttribute("data-failed", "1");
      const rect = document.createElementNS(svgNS, "rect");
      Object.entries({ x, y: 5, width: w, height: h, rx: 6 }).forEach(([k, v]) => rect.setAttribute(k, v));
      const t1 = document.createElementNS(svgNS, "text");
      t1.setAttribute("x", x + w / 2); t1.setAttribute("y", 28); t1.setAttribute("class", "ne");
      t1.textContent = hop.ne + (bad ? " ✖" : "");
      const t2 = document.createElementNS(svgNS, "text");
      t2.setAttribute("x", x + w / 2); t2.setAttribute("y", 50); t2.setAttribute("class", "sub");
      t2.textContent = hop.port ? hop.port : (hop.site || "").slice(0, 12);
      g.append(rect, t1, t2);
      svg.append(g);
      if (i < nodes.length - 1) {
        const line = document.createElementNS(svgNS, "line");
        Object.entries({ x1: x + w, y1: 5 + h / 2, x2: x + w + gap, y2: 5 + h / 2 }).forEach(([k, v]) => line.setAttribute(k, v));
        svg.append(line);
      }
    });
    return svg;
  }

  /* 重保: the badge of an incident raised by an assurance period (null when none is in force). */
  function assuranceBadge(inc) {
    if (!inc.assurance) return null;
    return el("span", { class: "badge assured", title: inc.assurance.name, text: t("assurance") + " " + inc.assurance.name });
  }

  return { boot, csrf, t, label, api, all, el, fill, syncClock, now, fmtTime, fmtDuration, toast, live, debounce, drawRoute, assuranceBadge, zh };
})();
