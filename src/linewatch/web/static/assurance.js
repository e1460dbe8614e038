/* 重保: assurance periods — list (in force / upcoming / ended on the server clock) and create. */
"use strict";
(() => {
  const { t, api, el, fill, boot } = LW;
  const { lines, submitter } = LW_PLAN;

  function status(p) {
    const now = LW.now();
    if (now < Date.parse(p.start)) return "upcoming";
    return now < Date.parse(p.end) ? "in_force" : "ended";
  }
  function scope(p) {
    const parts = [];
    for (const [key, label] of [["customers", "customers"], ["circuits", "circuits"], ["regions", "regions"]]) {
      if (p.scope[key] && p.scope[key].length) parts.push(el("div", {}, el("span", { class: "muted", text: t(label) + ": " }), p.scope[key].join(", ")));
    }
    return parts;
  }

  async function load() {
    const items = (await api("GET", "/api/v1/assurance")).items;
    fill("period-rows", items.map((p) => {
      const s = status(p);
      return el("tr", { class: s, dataset: { period: p.id } },
        el("td", { text: p.name }),
        el("td", {}, el("span", { class: "badge assured lvl-a" + p.level, text: (boot.choices.assurance_level || {})[p.level] || p.level })),
        el("td", { text: LW.fmtTime(p.start, true) }), el("td", { text: LW.fmtTime(p.end, true) }),
        el("td", { class: "status", text: t(s) }),
        el("td", {}, scope(p)),
        el("td", { class: "pre", text: p.roster }), el("td", { class: "pre", text: p.plan }));
    }));
    document.body.dataset.ready = "1";
  }

  const form = document.getElementById("period-form");
  if (form) {
    submitter(form, (data) => ["POST", "/api/v1/assurance", {
      name: data.get("name").trim(), level: Number(data.get("level")), start: data.get("start"), end: data.get("end"),
      scope: { customers: lines(data.get("customers")), circuits: lines(data.get("circuits")), regions: lines(data.get("regions")) },
      roster: data.get("roster"), plan: data.get("plan"),
    }], async () => { form.reset(); await load(); });
  }

  (async () => {
    await LW.syncClock();
    await load().catch((e) => LW.toast(t("failed") + ": " + e.message, true));
  })();
})();
