/* 割接: list, register/edit/cancel, the customer notice with CSV/Excel export, and a two-week
   calendar flagging conflicts (both routes of one circuit at once) and short notice. */
"use strict";
(() => {
  const { t, api, el, fill, fmtTime, boot } = LW;
  const { dayKey, dayLabel, toLocalInput, lines, period, submitter } = LW_PLAN;
  const choice = (kind, value) => (boot.choices[kind] || {})[value] || value;
  const shortText = () => t("short_notice").replace("{n}", boot.notice_days);
  const state = { items: [], selected: null };

  function flags(c) {
    const out = [];
    if (c.state === "scheduled" && c.conflicts.length) {
      out.push(el("span", { class: "flag conflict", title: c.conflicts.map((x) => x.task_no + " · " + x.circuit).join(", "), text: t("conflict") }));
    }
    if (c.short_notice) out.push(el("span", { class: "flag short", text: shortText() }));
    return out;
  }

  function renderCalendar() {
    const start = LW.now();
    const today = dayKey(start);
    const days = Array.from({ length: 14 }, (_, i) => dayKey(start + i * 86400000));
    const scheduled = state.items.filter((c) => c.state === "scheduled");
    fill("calendar", days.map((day) => {
      const here = scheduled.filter((c) => dayKey(Date.parse(c.window_start)) <= day && dayKey(Date.parse(c.window_end) - 1) >= day);
      return el("div", { class: "day" + (day === today ? " today" : ""), dataset: { day } },
        el("div", { class: "date", text: dayLabel(day) }),
        here.map((c) => el("a", {
          href: "#notice-panel",
          class: "chip" + (c.conflicts.length ? " conflict" : "") + (c.short_notice ? " short" : ""),
          dataset: { task: c.task_no },
          title: period(c.window_start, c.window_end),
          onclick: () => select(c.id),
        }, fmtTime(c.window_start).slice(0, 5) + " " + c.task_no,
        c.conflicts.length ? el("span", { class: "flag conflict", text: t("conflict_flag") }) : null,
        c.short_notice ? el("span", { class: "flag short", text: t("short_flag") }) : null)));
    }));
  }

  function renderList() {
    fill("cutover-rows", state.items.map((c) => el("tr", { class: c.state, dataset: { task: c.task_no } },
      el("td", { text: c.task_no }),
      el("td", { text: choice("cause", c.cause) }),
      el("td", { text: period(c.window_start, c.window_end) }),
      el("td", { text: choice("impact", c.impact) + (c.expected_minutes ? ` ${c.expected_minutes}′` : "") }),
      el("td", { text: c.region }),
      el("td", { text: c.affected_customers.join(", ") }),
      el("td", {}, c.published_at ? fmtTime(c.published_at, true) : "—", " ", ...flags(c)),
      el("td", { class: "state", text: choice("cutover_state", c.state) }),
      el("td", { class: "row-actions" },
        el("button", { class: "ghost small", dataset: { act: "notice" }, onclick: () => select(c.id), text: t("notice") }),
        boot.can_plan && c.state === "scheduled" ? el("button", { class: "ghost small", dataset: { act: "edit" }, onclick: () => edit(c), text: t("edit") }) : null,
        boot.can_plan && c.state === "scheduled" ? el("button", { class: "ghost small", dataset: { act: "cancel" }, onclick: () => cancel(c), text: t("cancel") }) : null))));
  }

  function renderNotice() {
    const c = state.items.find((x) => x.id === state.selected);
    if (!c) { fill("notice-task"); fill("notice-links"); fill("notice-rows"); return; }
    fill("notice-task", c.task_no);
    const base = `/api/v1/cutovers/${c.id}/notice`;
    fill("notice-links",
      el("a", { class: "button ghost", id: "export-csv", href: `${base}.csv?lang=${boot.lang}`, download: "", text: t("export_csv") }),
      el("a", { class: "button ghost", id: "export-xlsx", href: `${base}.xlsx?lang=${boot.lang}`, download: "", text: t("export_xlsx") }),
      ...flags(c));
    fill("notice-rows", c.notice.map((r) => el("tr", {},
      el("td", { text: r.task_no }), el("td", { text: r.customer }), el("td", { text: r.customer_name }), el("td", { text: r.circuit }),
      el("td", { text: fmtTime(r.window_start, true) }), el("td", { text: fmtTime(r.window_end, true) }),
      el("td", { text: r.impact_label }), el("td", { text: r.expected_minutes }), el("td", { text: r.region }), el("td", { text: r.cause_label }))));
  }

  function select(id) { state.selected = id; renderNotice(); }

  async function load() {
    state.items = (await api("GET", "/api/v1/cutovers?lang=" + boot.lang)).items;
    renderCalendar();
    renderList();
    renderNotice();
    document.body.dataset.ready = "1";
  }

  async function cancel(c) {
    try {
      await api("POST", `/api/v1/cutovers/${c.id}/cancel`);
      LW.toast(t("done"));
      await load();
    } catch (e) { LW.toast(t("failed") + ": " + e.message, true); }
  }

  // ------------------------------------------------------------------ register / edit
  const form = document.getElementById("cutover-form");
  function edit(c) {
    form.elements.id.value = c.id;
    for (const name of ["task_no", "cause", "impact", "expected_minutes", "region", "initiator"]) form.elements[name].value = c[name];
    form.elements.description.value = c.description || "";
    for (const name of ["window_start", "window_end", "published_at"]) form.elements[name].value = toLocalInput(c[name]);
    form.elements.nes.value = c.resources.nes.join("\n");
    form.elements.ports.value = c.resources.ports.map((p) => p.ne + ":" + p.port).join("\n");
    form.elements.circuits.value = c.resources.circuits.join("\n");
    fill("form-title", t("edit_cutover") + " " + c.task_no);
    fill("form-submit", t("save"));
    form.scrollIntoView();
  }
  function reset() {
    form.reset();
    form.elements.id.value = "";
    fill("form-title", t("new_cutover"));
    fill("form-submit", t("register"));
  }
  if (form) {
    document.getElementById("form-reset").addEventListener("click", reset);
    submitter(form, (data) => {
      const id = data.get("id");
      const body = {
        task_no: data.get("task_no").trim(), cause: data.get("cause"), impact: data.get("impact"),
        window_start: data.get("window_start"), window_end: data.get("window_end"),
        expected_minutes: Number(data.get("expected_minutes") || 0), region: data.get("region").trim(),
        initiator: data.get("initiator").trim(), published_at: data.get("published_at") || null,
        description: data.get("description"),
        resources: {
          nes: lines(data.get("nes")),
          ports: lines(data.get("ports")).map((l) => { const at = l.indexOf(":"); return { ne: l.slice(0, at).trim(), port: l.slice(at + 1).trim() }; }),
          circuits: lines(data.get("circuits")),
        },
      };
      return id ? ["PUT", `/api/v1/cutovers/${id}`, body] : ["POST", "/api/v1/cutovers", body];
    }, async (result) => { reset(); await load(); select(result.id); });
  }

  (async () => {
    await LW.syncClock();
    await load().catch((e) => LW.toast(t("failed") + ": " + e.message, true));
  })();
})();
