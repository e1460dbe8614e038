/* Alarm console: filter, tree of root/consequent alarms, acknowledge, note, clear, diagnose, dispatch. */
"use strict";
(() => {
  const { t, api, all, el, fill, live, debounce, fmtTime, boot } = LW;
  const state = { alarms: [], rows: [], selected: 0, incidents: new Map(), customers: new Map() };
  window.LW_CONSOLE = state;
  const form = document.getElementById("filters");

  function params() {
    const data = new FormData(form);
    const query = new URLSearchParams({ state: data.get("state") });
    for (const key of ["customer", "ne", "type", "matched", "planned"]) if (data.get(key)) query.set(key, data.get(key).trim());
    return query;
  }

  async function load() {
    try {
      const [alarms, incidents] = await Promise.all([
        all("/api/v1/alarms?" + params().toString(), 5000),
        all("/api/v1/incidents?state=all", 5000),
      ]);
      if (!state.customers.size) state.customers = new Map((await all("/api/v1/customers")).map((c) => [c.code, c]));
      state.incidents = new Map(incidents.map((i) => [i.id, i]));
      state.alarms = alarms;
      render();
      document.body.dataset.ready = "1";
    } catch (e) { LW.toast(t("failed") + ": " + e.message, true); }
  }

  function visible() {
    const data = new FormData(form);
    const q = (data.get("q") || "").trim().toLowerCase(), level = data.get("level"), region = (data.get("region") || "").trim();
    return state.alarms.filter((a) => {
      if (level) { const inc = state.incidents.get(a.incident_id); if (!inc || inc.level !== level) return false; }
      if (region && !a.customers.some((c) => (state.customers.get(c) || {}).region === region)) return false;
      if (q) {
        const hay = [a.ne, a.object, a.type, a.text, a.source, ...a.customers, ...a.circuits].join(" ").toLowerCase();
        if (!hay.includes(q)) return false;
      }
      return true;
    });
  }

  function tree(alarms) {
    const byId = new Map(alarms.map((a) => [a.id, a]));
    const children = new Map();
    const roots = [];
    for (const a of alarms) {
      if (a.root_id && byId.has(a.root_id) && a.root_id !== a.id) {
        if (!children.has(a.root_id)) children.set(a.root_id, []);
        children.get(a.root_id).push(a);
      } else roots.push(a);
    }
    const out = [];
    const walk = (a, depth) => { out.push({ alarm: a, depth }); for (const c of children.get(a.id) || []) walk(c, depth + 1); };
    roots.forEach((r) => walk(r, 0));
    return out;
  }

  function render() {
    const selectedId = state.rows[state.selected] && state.rows[state.selected].alarm.id;
    state.rows = tree(visible());
    const again = state.rows.findIndex((r) => r.alarm.id === selectedId);
    state.selected = again >= 0 ? again : Math.min(state.selected, Math.max(0, state.rows.length - 1));
    fill("alarm-rows", state.rows.map(({ alarm: a, depth }, index) => {
      const inc = state.incidents.get(a.incident_id);
      return el("tr", { class: [depth ? "child" : "", a.ack ? "acked" : "", a.planned ? "planned" : "", index === state.selected ? "sel" : ""].join(" "),
        dataset: { alarm: a.id }, onclick: () => select(index) },
        el("td", { class: "ne" }, a.ne || "?", a.planned ? el("span", { class: "tag planned", title: t("planned_hint"), text: t("planned") }) : null), el("td", { text: a.object }), el("td", { text: a.type }),
        el("td", { class: "sev-" + a.severity, text: a.severity }), el("td", { class: "text", text: a.text }),
        el("td", { text: a.customers.join(", ") }),
        el("td", {}, inc ? el("a", { href: "/incidents/" + inc.id }, el("span", { class: "badge lvl-" + inc.level, text: t("level_" + inc.level) }), " #" + inc.id) : ""),
        el("td", { text: fmtTime(a.first_time, true) }), el("td", { text: a.count }),
        el("td", { class: "ack", text: a.ack ? a.ack.by : "" }));
    }));
    if (!state.rows.length) fill("alarm-rows", el("tr", {}, el("td", { colspan: 10, class: "muted", text: t("no_items") })));
    renderDetail();
  }

  function select(index) {
    state.selected = Math.max(0, Math.min(index, state.rows.length - 1));
    document.querySelectorAll("#alarm-rows tr").forEach((tr, i) => tr.classList.toggle("sel", i === state.selected));
    const row = document.querySelectorAll("#alarm-rows tr")[state.selected];
    if (row) row.scrollIntoView({ block: "nearest" });
    renderDetail();
  }

  const current = () => (state.rows[state.selected] || {}).alarm;

  async function act(fn, okText) {
    try { await fn(); LW.toast(okText || t("done")); await load(); }
    catch (e) { LW.toast(t("failed") + ": " + e.message, true); }
  }
  const ack = (a) => act(() => api("POST", `/api/v1/alarms/${a.id}/ack`, {}), t("acknowledged"));

  function renderDetail() {
    const a = current();
    const box = document.getElementById("detail");
    if (!a) { fill(box, el("p", { class: "muted", text: t("no_items") })); return; }
    const inc = state.incidents.get(a.incident_id);
    const parts = [
      el("h2", { text: `${a.ne || "?"} ${a.object} · ${a.type}` }),
      el("div", { class: "pre", id: "detail-text", text: a.text }),
      el("div", { class: "muted", text: `${a.source} · ${a.state} · ${fmtTime(a.first_time, true)}` }),
      a.planned ? el("div", { class: "tag planned", id: "detail-planned", text: t("planned_hint") }) : null,
    ];
    if (a.suggestion && (a.suggestion.causes.length || a.suggestion.steps.length)) {
      parts.push(el("details", {}, el("summary", { text: t("suggestions") }),
        el("ul", {}, a.suggestion.steps.map((s) => el("li", { text: s })))));
    }
    if (boot.can_act) {
      parts.push(el("div", { class: "row" },
        el("button", { id: "ack-btn", disabled: !!a.ack, onclick: () => ack(a), text: t("acknowledge") + " (a)" }),
        inc ? el("a", { class: "button ghost", href: "/incidents/" + inc.id, text: t("incident") + " #" + inc.id + " (o)" }) : null));
      const note = el("textarea", { id: "note-text", rows: 2, placeholder: t("note") + " (n)" });
      parts.push(el("form", { onsubmit: (e) => { e.preventDefault(); if (note.value.trim()) act(() => api("POST", `/api/v1/alarms/${a.id}/notes`, { text: note.value.trim() })); } },
        note, el("button", { class: "small", text: t("add_note") })));
      if (a.state === "active") {
        const reason = el("input", { id: "clear-reason", placeholder: t("reason") + " (c)" });
        parts.push(el("form", { onsubmit: (e) => { e.preventDefault(); if (reason.value.trim()) act(() => api("POST", `/api/v1/alarms/${a.id}/clear`, { reason: reason.value.trim() })); } },
          el("label", {}, t("manual_clear"), reason), el("button", { class: "small", text: t("manual_clear") })));
      }
      if (inc && inc.state === "open") {
        const cat = el("select", { id: "diag-cat" }, ["network", "non_network", "unknown"].map((c) => el("option", { value: c, text: t("cat_" + c) })));
        const team = el("input", { placeholder: t("team"), size: 8 });
        parts.push(el("form", { onsubmit: (e) => { e.preventDefault(); act(() => api("POST", `/api/v1/incidents/${inc.id}/diagnosis`, { category: cat.value, team: team.value.trim() || null })); } },
          el("label", {}, t("diagnose") + (inc.diagnosis ? " ✓" : "") + " (d)", cat), team, el("button", { class: "small", text: t("diagnose") })));
        parts.push(el("button", { class: "ghost small", onclick: () => act(() => api("POST", `/api/v1/incidents/${inc.id}/dispatch`, {})), text: t("dispatch") }));
      }
    }
    fill(box, parts);
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  document.getElementById("q").addEventListener("input", render);
  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (e.key === "Escape" && typing) { document.activeElement.blur(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const a = current();
    if (e.key === "/") { e.preventDefault(); document.getElementById("q").focus(); }
    else if (e.key === "j") select(state.selected + 1);
    else if (e.key === "k") select(state.selected - 1);
    else if (e.key === "a" && a && !a.ack && boot.can_act) ack(a);
    else if (e.key === "n") { e.preventDefault(); const n = document.getElementById("note-text"); if (n) n.focus(); }
    else if (e.key === "c") { e.preventDefault(); const n = document.getElementById("clear-reason"); if (n) n.focus(); }
    else if (e.key === "d") { e.preventDefault(); const n = document.getElementById("diag-cat"); if (n) n.focus(); }
    else if (e.key === "o" && a && a.incident_id) location.href = "/incidents/" + a.incident_id;
  });

  const soon = debounce(load, 200);
  live({ resync: soon, incidents: soon, alarms: soon, ack: soon });
})();
