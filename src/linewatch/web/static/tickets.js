/* Ticket desk (list, detail, phone view): countdowns, milestone buttons, notes, close, escalations. */
"use strict";
(() => {
  const { t, api, all, el, fill, now, fmtTime, fmtDuration, live, debounce, label, boot } = LW;
  const DEADLINE_OF = { accepted: "accept", contacted: "contact", on_site: "on_site", located: "locate", recovered: "recover" };
  const EVENT_OF = { accepted: "accept", contacted: "contact", on_site: "on_site", located: "located", recovered: "recovered" };

  function nextDeadline(ticket) {
    for (const [milestone, deadline] of Object.entries(DEADLINE_OF)) {
      if (!ticket.milestones[milestone] && ticket.deadlines[deadline]) return { milestone, at: ticket.deadlines[deadline] };
    }
    return null;
  }
  function countdown(ticket) {
    const next = nextDeadline(ticket);
    if (!next || ticket.state === "closed") return el("span", { class: "muted", text: "—" });
    const left = (Date.parse(next.at) - now()) / 1000;
    const prefix = label("state", next.milestone) + " ";
    return el("span", { class: "countdown" + (left < 0 ? " overdue" : ""), dataset: { at: next.at, prefix } },
      prefix + (left < 0 ? t("overdue") + " " : "") + fmtDuration(left));
  }
  function tick() {
    document.querySelectorAll(".countdown[data-at]").forEach((node) => {
      const left = (Date.parse(node.dataset.at) - now()) / 1000;
      node.classList.toggle("overdue", left < 0);
      node.textContent = node.dataset.prefix + (left < 0 ? t("overdue") + " " : "") + fmtDuration(left);
    });
  }

  // ------------------------------------------------------------------ list
  // The API lists warned customers' tickets first (DOMAIN 8); the badge says why.
  function warned(tk) {
    return tk.warning ? el("span", { class: "warn warn-" + tk.warning, text: t("warning_" + tk.warning) }) : null;
  }
  async function loadList() {
    const open = document.getElementById("open-only").checked;
    const items = await all("/api/v1/tickets" + (open ? "?open=true" : ""), 2000);
    const base = boot.mobile ? "/m/tickets/" : "/tickets/";
    if (boot.mobile) {
      fill("ticket-cards", items.length ? items.map((tk) => el("a", { class: "tcard", href: base + tk.id, dataset: { ticket: tk.id } },
        el("div", { class: "top" }, el("strong", { text: "#" + tk.id + " " + (tk.customer || "") }), warned(tk), el("span", { text: label("state", tk.state) })),
        el("div", { class: "muted", text: tk.circuits.join(", ") }),
        el("div", { text: tk.description || "" }), countdown(tk))) : el("p", { class: "muted", text: t("no_items") }));
    } else {
      fill("ticket-rows", items.map((tk) => el("tr", { dataset: { ticket: tk.id } },
        el("td", {}, el("a", { href: base + tk.id, text: "#" + tk.id })), el("td", {}, tk.customer || "", " ", warned(tk)),
        el("td", { text: tk.circuits.join(", ") }), el("td", { text: tk.assignee || "" }), el("td", { text: tk.track }),
        el("td", { text: label("state", tk.state) }), el("td", { text: fmtTime(tk.created_at, true) }),
        el("td", {}, countdown(tk)), el("td", { text: tk.escalations.map((e) => label("escalation", e.level)).join(", ") }))));
    }
    document.body.dataset.ready = "1";
  }

  // ------------------------------------------------------------------ detail
  async function event(type, extra) {
    try {
      await api("POST", `/api/v1/tickets/${boot.ticket_id}/events`, { type, ...(extra || {}) });
      LW.toast(label("event", type) + " ✓");
      await loadTicket();
      return true;
    } catch (e) { LW.toast(t("failed") + ": " + e.message, true); return false; }
  }

  // ------------------------------------------------------------------ escalations and 技术支援
  const TAKERS = ["admin", "dispatcher", "support", "fault_manager", "manager_l3", "leader"];
  const WORKERS = ["admin", "dispatcher", "support", "engineer", "fault_manager", "contractor"];

  async function post(path, body, okText) {
    try { await api("POST", path, body); LW.toast(okText); await loadTicket(); }
    catch (e) { LW.toast(t("failed") + ": " + e.message, true); }
  }

  function renderEscalations(tk) {
    const items = [
      ...tk.escalations.map((e) => ({ ...e, kind: "escalation", text: e.reason })),
      ...(tk.support_requests || []).map((r) => ({ ...r, kind: "support", text: t("support_requested") + (r.by ? " · " + r.by : "") + (r.note ? " · " + r.note : "") })),
    ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const open = new Set(items.filter((i) => !i.acked).map((i) => i.level));
    fill("escalations", items.length ? items.map((i) => el("li", { class: i.kind + (i.acked ? " acked" : " open"), dataset: { level: i.level } },
      fmtTime(i.at, true) + " · " + label("escalation", i.level) + " · ", el("span", { class: "why", text: i.text || "" }),
      i.acked ? el("span", { class: "muted ack", text: " ✓ " + i.acked.by + " " + fmtTime(i.acked.at, true) + (i.acked.note ? " · " + i.acked.note : "") }) : null))
      : el("li", { class: "muted", text: t("no_items") }));
    const actions = [];
    if (TAKERS.includes(boot.role)) {
      for (const level of open) {
        actions.push(el("button", { class: "small", dataset: { ack: level },
          onclick: () => post(`/api/v1/tickets/${tk.id}/escalations/ack`, { level, note: noteText() || null }, t("acknowledged")),
          text: t("take_escalation") + " · " + label("escalation", level) }));
      }
    }
    const waiting = (tk.support_requests || []).some((r) => !r.acked);
    if (WORKERS.includes(boot.role) && !tk.milestones.recovered && !waiting) {
      actions.push(el("button", { class: "ghost small", id: "support-btn", onclick: () => {
        const note = noteText();
        if (!note) { document.getElementById("note").focus(); LW.toast(t("support_needs_note"), true); return; }
        post(`/api/v1/tickets/${tk.id}/support`, { note }, t("support_requested")).then(() => { document.getElementById("note").value = ""; });
      }, text: t("request_support") }));
    }
    fill("escalation-actions", actions);
  }
  const noteText = () => document.getElementById("note").value.trim();

  async function loadTicket() {
    const tk = await api("GET", `/api/v1/tickets/${boot.ticket_id}`);
    fill("summary", el("div", { class: "grid2" },
      el("div", {}, el("div", {}, el("strong", { text: t("customer") + ": " }), tk.customer || ""),
        el("div", {}, el("strong", { text: t("circuit") + ": " }), tk.circuits.join(", ")),
        el("div", {}, el("strong", { text: t("description") + ": " }), el("span", { id: "description", text: tk.description || "" }))),
      el("div", {}, el("div", {}, el("strong", { text: t("state") + ": " }), el("span", { id: "ticket-state", text: label("state", tk.state) })),
        el("div", {}, el("strong", { text: t("assignee") + ": " }), tk.assignee || ""),
        el("div", {}, el("strong", { text: t("next_deadline") + ": " }), countdown(tk)),
        tk.incident_id ? el("div", {}, el("a", { href: "/incidents/" + tk.incident_id, text: t("incident") + " #" + tk.incident_id })) : null)));
    fill("milestones", Object.entries(tk.milestones).map(([m, at]) => {
      const due = tk.deadlines[DEADLINE_OF[m]];
      return el("div", { class: "milestone" + (at ? " done" : ""), dataset: { milestone: m } },
        el("strong", { text: label("state", m) }), el("span", { text: at ? fmtTime(at, true) : "—" }),
        due ? el("span", { class: "due muted", text: t("deadlines") + " " + fmtTime(due, true) }) : null);
    }));
    const buttons = [];
    if (tk.state !== "closed") {
      for (const [m, type] of Object.entries(EVENT_OF)) {
        if (!tk.milestones[m]) buttons.push(el("button", { dataset: { event: type }, onclick: () => event(type), text: label("event", type) }));
      }
      if (tk.suspended) buttons.push(el("button", { class: "ghost", onclick: () => event("resume"), text: label("event", "resume") }));
      else buttons.push(el("button", { class: "ghost", onclick: () => { const n = document.getElementById("note").value.trim(); if (!n) { document.getElementById("note").focus(); LW.toast(t("reason"), true); } else event("suspend", { note: n }); }, text: label("event", "suspend") }));
    } else buttons.push(el("button", { class: "ghost", onclick: () => event("reopen"), text: label("event", "reopen") }));
    fill("actions", buttons);
    renderEscalations(tk);
    fill("events", (tk.events || []).map((e) => el("li", {}, el("time", { text: fmtTime(e.at, true) }),
      el("strong", { text: label("event", e.type) }), " · " + (e.actor || "") + " ", e.note ? el("span", { class: "pre", text: e.note }) : null)));
    document.getElementById("close-form").hidden = tk.state === "closed";
    document.body.dataset.ready = "1";
  }

  if (boot.page === "tickets") {
    const reload = () => loadList().catch((e) => LW.toast(t("failed") + ": " + e.message, true));
    document.getElementById("open-only").addEventListener("change", reload);
    LW.syncClock().then(reload);
    live({ resync: debounce(reload, 300), incidents: debounce(reload, 500) });
  } else {
    document.getElementById("note-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const note = document.getElementById("note");
      if (note.value.trim() && (await event("note", { note: note.value.trim() }))) note.value = "";
    });
    document.getElementById("close-form").addEventListener("submit", (e) => {
      e.preventDefault();
      event("close", { cause: document.getElementById("cause").value, resolution: document.getElementById("resolution").value.trim() });
    });
    const reload = () => loadTicket().catch((e) => LW.toast(t("failed") + ": " + e.message, true));
    LW.syncClock().then(reload);
    live({ incidents: debounce(reload, 500) });
  }
  setInterval(tick, 1000);
})();
