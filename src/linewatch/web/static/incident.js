/* Incident view: impacts, each impacted circuit's routes with failed hops, suggestions, timeline. */
"use strict";
(() => {
  const { t, api, all, el, fill, fmtTime, live, debounce, drawRoute, boot, label } = LW;
  const id = boot.incident_id;

  async function load() {
    const inc = await api("GET", `/api/v1/incidents/${id}`);
    const alarms = await all(`/api/v1/alarms?incident=${id}&state=all`, 2000);
    const codes = [...new Set(inc.impacts.map((i) => i.circuit))];
    const circuits = await Promise.all(codes.map((c) => api("GET", "/api/v1/circuits/" + encodeURIComponent(c)).catch(() => null)));
    const tickets = await all(`/api/v1/tickets?incident=${id}`, 200).catch(() => []);

    fill("incident-title", t("incident") + " #" + id + " ", el("span", { class: "badge lvl-" + inc.level, text: t("level_" + inc.level) }),
      " ", el("span", { class: "muted", text: inc.state }), " ", el("span", { id: "conn", class: "conn" }));
    fill("level-reason", inc.level_reason || "", " ", LW.assuranceBadge(inc));
    const history = inc.assurance_history || [];
    const box = document.getElementById("assurance-history");
    box.hidden = !history.length;
    fill("assurance-rows", history.map((h) => el("tr", { dataset: { period: h.id } },
      el("td", {}, el("a", { href: "/assurance", text: h.name })), el("td", { text: h.level }),
      el("td", { text: t("level_" + h.raised_to) }), el("td", { text: fmtTime(h.since, true) }),
      el("td", { text: h.until ? fmtTime(h.until, true) : "—" }))));
    fill("impacts", inc.impacts.map((i) => el("tr", { class: i.until ? "muted" : "" },
      el("td", { text: i.circuit }), el("td", { text: i.customer }), el("td", { class: i.impact === "down" ? "overdue" : "", text: t("impact_" + i.impact) }),
      el("td", { text: fmtTime(i.since, true) }), el("td", { text: fmtTime(i.until, true) }))));

    const actions = [];
    if (boot.can_act && inc.state === "open") {
      const cat = el("select", {}, ["network", "non_network", "unknown"].map((c) => el("option", { value: c, text: t("cat_" + c) })));
      actions.push(el("form", { class: "row", onsubmit: async (e) => { e.preventDefault(); try { await api("POST", `/api/v1/incidents/${id}/diagnosis`, { category: cat.value }); LW.toast(t("done")); load(); } catch (err) { LW.toast(t("failed") + ": " + err.message, true); } } },
        cat, el("button", { class: "small", text: t("diagnose") })));
      actions.push(el("button", { class: "ghost small", onclick: async () => { try { await api("POST", `/api/v1/incidents/${id}/dispatch`, {}); LW.toast(t("done")); load(); } catch (err) { LW.toast(t("failed") + ": " + err.message, true); } }, text: t("dispatch") }));
    }
    actions.push(...tickets.map((tk) => el("a", { class: "button ghost", href: "/tickets/" + tk.id, text: t("ticket") + " #" + tk.id + " · " + label("state", tk.state) })));
    fill("incident-actions", actions);

    const s = inc.suggestion;
    fill("suggestion", s ? [el("h3", { text: t("causes") }), el("ul", {}, s.causes.map((c) => el("li", { text: c }))),
      el("h3", { text: t("steps") }), el("ol", {}, s.steps.map((c) => el("li", { text: c })))] : el("p", { class: "muted", text: t("no_items") }));

    const activeAlarms = alarms.filter((a) => a.state === "active");
    const failed = (hop) => activeAlarms.some((a) => a.ne === hop.ne && (!a.object || !hop.port || a.object === hop.port));
    fill("routes", circuits.filter(Boolean).map((c) => el("div", { class: "circuit", dataset: { circuit: c.code } },
      el("h3", { text: `${c.code} · ${c.customer_name} · ${t("svc_" + c.service_type)} · ${t("role_" + c.site_role)}` }),
      ...["primary", "backup"].filter((r) => c.routes[r] && c.routes[r].length).map((r) =>
        el("div", {}, el("div", { class: "muted", text: t(r) }), drawRoute(r, c.routes[r], c.a_end, c.z_end, failed))))));

    fill("alarms", alarms.map((a) => el("tr", { class: a.root_id ? "child" : "" },
      el("td", { text: a.id === inc.root_alarm_id ? t("root") : "" }), el("td", { text: `${a.ne || "?"} ${a.object}` }),
      el("td", { text: a.type }), el("td", { class: "sev-" + a.severity, text: a.severity }), el("td", { class: "pre", text: a.text }),
      el("td", { text: a.state }))));

    const events = [{ at: inc.opened_at, text: t("opened") }];
    for (const a of alarms) {
      events.push({ at: a.first_time, text: `${a.ne || "?"} ${a.object} ${a.type}` });
      if (a.ack) events.push({ at: a.ack.at, text: `${t("acknowledged")} ${a.ne || ""} ${a.type} · ${a.ack.by}` });
      if (a.cleared_time) events.push({ at: a.cleared_time, text: `${t("cleared")} ${a.ne || ""} ${a.type}` + (a.clear_reason ? " · " + a.clear_reason : "") });
    }
    for (const h of history) events.push({ at: h.since, text: `${t("assurance")}「${h.name}」 ${t("raised_to")} ${t("level_" + h.raised_to)}` });
    if (inc.diagnosis) events.push({ at: inc.diagnosis.at, text: `${t("diagnosed")}: ${t("cat_" + inc.diagnosis.category)} · ${inc.diagnosis.by}` });
    for (const tk of tickets) events.push({ at: tk.created_at, text: `${t("ticket")} #${tk.id} → ${tk.assignee || ""}` });
    if (inc.recovered_at) events.push({ at: inc.recovered_at, text: t("recovered") });
    events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    fill("timeline", events.map((e) => el("li", {}, el("time", { text: fmtTime(e.at, true) }), el("span", { text: e.text }))));
    document.body.dataset.ready = "1";
  }

  const reload = () => load().catch((e) => LW.toast(t("failed") + ": " + e.message, true));
  reload();
  const soon = debounce(reload, 300);
  live({ incidents: soon, alarms: soon, ack: soon });
})();
