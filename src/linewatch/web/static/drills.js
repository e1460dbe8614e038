/* 应急演练: define a scenario as lines of alarms at minute offsets, run it through the real
   pipeline, and read the report: every step and milestone against its deadline. */
"use strict";
(() => {
  const { t, api, el, fill, fmtTime, label, live, debounce } = LW;
  const { submitter } = LW_PLAN;
  let selected = null;

  /* "[+minutes] NE object type [severity]" per line → {after_minutes → alarms}; bad lines named. */
  function parse(text) {
    const steps = new Map();
    const bad = [];
    String(text || "").split("\n").forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      const parts = line.split(/\s+/);
      let minutes = 0;
      if (/^\+\d+$/.test(parts[0])) minutes = Number(parts.shift().slice(1));
      if (parts.length < 3 || parts.length > 4) { bad.push(i + 1); return; }
      const [ne, object, type, severity] = parts;
      if (!steps.has(minutes)) steps.set(minutes, []);
      steps.get(minutes).push({ source: "drill-script", ne, object: object === "-" ? "" : object, type, severity: severity || "critical" });
    });
    if (bad.length) throw new Error(bad.map((n) => t("bad_line").replace("{n}", n)).join("; "));
    if (!steps.has(0)) throw new Error(t("script_help"));
    const timed = [...steps.keys()].filter((m) => m > 0).sort((a, b) => a - b);
    return { alarms: steps.get(0), steps: timed.map((m) => ({ after_minutes: m, alarms: steps.get(m) })) };
  }

  function verdict(met) {
    if (met === true) return el("span", { class: "met", text: "✓ " + t("met") });
    if (met === false) return el("span", { class: "overdue", text: "✗ " + t("missed") });
    return el("span", { class: "muted", text: "—" });
  }

  async function loadList() {
    const items = (await api("GET", "/api/v1/drills")).items;
    fill("drill-rows", items.map((d) => el("tr", { class: d.id === selected ? "sel" : "", dataset: { drill: d.id } },
      el("td", {}, el("a", { href: "#report", onclick: () => show(d.id), text: "#" + d.id })),
      el("td", { text: d.name }), el("td", { text: fmtTime(d.started_at, true) }),
      el("td", { text: d.steps.filter((s) => s.done_at).length + "/" + d.steps.length }))));
  }

  async function loadReport() {
    if (selected === null) return;
    const r = await api("GET", `/api/v1/drills/${selected}/report`);
    fill("report-title", el("span", { class: "badge drill", text: t("drill_tag") }), " #" + r.id + " " + r.name);
    fill("report-summary", el("p", {}, t("started_at") + ": " + fmtTime(r.started_at, true) + " · " + r.started_by + " · ",
      el("strong", { id: "missed", class: r.missed ? "overdue" : "met", text: t("missed_total") + " " + r.missed })));
    fill("step-rows", r.steps.map((s, i) => el("tr", { class: s.done_at ? "done" : "", dataset: { step: i } },
      el("td", { text: "+" + s.after_minutes + "′" }), el("td", { text: fmtTime(s.due_at, true) }),
      el("td", { text: s.done_at ? fmtTime(s.done_at, true) : "—" }), el("td", { text: s.alarms }))));
    const rows = [];
    for (const inc of r.incidents) {
      rows.push(el("tr", { dataset: { milestone: "diagnosis" } },
        el("td", {}, el("a", { href: "/incidents/" + inc.id, text: t("incident") + " #" + inc.id })), el("td", { text: t("diagnosis") }),
        el("td", { text: inc.diagnosis.minutes ?? "—" }), el("td", { text: inc.diagnosis.at ? fmtTime(inc.diagnosis.at, true) : "—" }),
        el("td", { text: fmtTime(inc.diagnosis.deadline, true) }), el("td", {}, verdict(inc.diagnosis.met))));
    }
    for (const tk of r.tickets) {
      for (const m of tk.milestones) {
        rows.push(el("tr", { dataset: { milestone: m.milestone, ticket: tk.id } },
          el("td", {}, el("a", { href: "/tickets/" + tk.id, text: t("ticket") + " #" + tk.id })), el("td", { text: label("state", m.milestone) }),
          el("td", { text: m.minutes ?? "—" }), el("td", { text: m.at ? fmtTime(m.at, true) : "—" }),
          el("td", { text: m.deadline ? fmtTime(m.deadline, true) : "—" }), el("td", {}, verdict(m.met))));
      }
    }
    fill("milestone-rows", rows);
  }

  async function show(id) {
    selected = id;
    await Promise.all([loadList(), loadReport()]);
  }

  const form = document.getElementById("drill-form");
  submitter(form, (data) => {
    const script = parse(data.get("script"));
    return ["POST", "/api/v1/drills", { name: data.get("name").trim(), ...script }];
  }, async (result) => { form.reset(); await show(result.id); });

  const reload = () => Promise.all([loadList(), loadReport()])
    .then(() => { document.body.dataset.ready = "1"; })
    .catch((e) => LW.toast(t("failed") + ": " + e.message, true));
  reload();
  const soon = debounce(reload, 300);
  live({ incidents: soon, alarms: soon });
})();
