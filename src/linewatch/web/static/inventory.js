/* Inventory: search and browse customers → circuits → routes → NEs; import with errors by file/row/column. */
"use strict";
(() => {
  const { t, api, el, fill, drawRoute, boot } = LW;
  const fail = (e) => LW.toast(t("failed") + ": " + e.message, true);
  const link = (text, fn) => el("a", { href: "#", text, onclick: (e) => { e.preventDefault(); fn().catch(fail); } });

  async function search(q) {
    const query = q ? "?limit=50&q=" + encodeURIComponent(q) : "?limit=50";
    const [customers, circuits, nes] = await Promise.all([
      api("GET", "/api/v1/customers" + query), api("GET", "/api/v1/circuits" + query),
      api("GET", "/api/v1/network_elements" + query).catch(() => ({ items: [] })),
    ]);
    fill("inv-customers", customers.items.map((c) => el("li", {}, link(`${c.code} ${c.name}`, () => customer(c.code)), c.key_customer ? el("span", { class: "tag", text: " ★" }) : null)));
    fill("inv-circuits", circuits.items.map((c) => el("li", {}, link(c.code, () => circuit(c.code)), el("span", { class: "muted", text: " " + (c.customer || "") }))));
    fill("inv-nes", nes.items.map((n) => el("li", {}, link(n.name, () => ne(n.name)), el("span", { class: "muted", text: ` ${n.type || ""} ${n.site || ""}` }))));
    document.body.dataset.ready = "1";
  }

  async function customer(code) {
    const [c, circuits] = await Promise.all([api("GET", "/api/v1/customers/" + encodeURIComponent(code)),
      api("GET", "/api/v1/circuits?limit=200&customer=" + encodeURIComponent(code))]);
    fill("inv-detail", el("h2", { text: `${c.code} · ${c.name}` }),
      el("p", { class: "muted", text: [c.level, c.grade, c.industry, c.region, c.contact_name, c.contact_phone].filter(Boolean).join(" · ") }),
      el("h3", { text: t("circuits") }), el("ul", { class: "list" }, circuits.items.map((k) => el("li", {}, link(k.code, () => circuit(k.code))))));
  }

  async function circuit(code) {
    const c = await api("GET", "/api/v1/circuits/" + encodeURIComponent(code));
    fill("inv-detail", el("h2", { text: `${c.code} · ${c.customer_name}` }),
      el("p", { class: "muted", text: `${t("svc_" + c.service_type)} · ${t("role_" + c.site_role)} · ${c.bandwidth_mbps} Mb/s · ${c.access} · ${t("maintainer")} ${c.maintainer || ""}` }),
      el("p", {}, link("← " + c.customer, () => customer(c.customer))),
      ...["primary", "backup"].filter((r) => c.routes[r] && c.routes[r].length).map((r) => el("div", {},
        el("div", { class: "muted", text: t(r) }), drawRoute(r, c.routes[r], c.a_end, c.z_end, () => false),
        el("div", { class: "row" }, c.routes[r].map((hop) => link(hop.ne, () => ne(hop.ne)))))));
  }

  async function ne(name) {
    const [n, through] = await Promise.all([api("GET", "/api/v1/network_elements/" + encodeURIComponent(name)),
      api("GET", `/api/v1/network_elements/${encodeURIComponent(name)}/circuits`)]);
    fill("inv-detail", el("h2", { text: n.name }),
      el("p", { class: "muted", text: [n.type, n.vendor, n.ems, n.site, n.region, n.mgmt_ip].filter(Boolean).join(" · ") }),
      el("h3", { text: t("circuits") }), el("ul", { class: "list" }, through.items.map((i) =>
        el("li", {}, link(i.circuit || i.code, () => circuit(i.circuit || i.code)), el("span", { class: "muted", text: " " + (i.route || "") + " " + (i.port || "") })))));
  }

  if (boot.page === "inventory") {
    document.getElementById("inv-search").addEventListener("submit", (e) => { e.preventDefault(); search(document.getElementById("inv-q").value.trim()).catch(fail); });
    search("").catch(fail);
  } else {
    document.getElementById("import-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData();
      for (const file of document.getElementById("import-files").files) data.append("files", file, file.name);
      const dry = document.getElementById("dry-run").checked;
      let report;
      try { report = await api("POST", "/api/v1/inventory/import?dry_run=" + dry, data); }
      catch (err) { if (err.status === 422 && err.body && err.body.detail) report = err.body.detail; else { fail(err); return; } }
      document.getElementById("import-result").hidden = false;
      fill("import-status", report.ok ? t("import_ok") + (dry ? " (" + t("dry_run") + ")" : "") : t("import_errors") + ": " + report.errors.length);
      fill("import-errors", [...report.errors, ...(report.warnings || [])].map((i) => el("tr", { class: report.errors.includes(i) ? "" : "muted" },
        el("td", { text: i.file }), el("td", { text: i.row }), el("td", { text: i.column || "" }), el("td", { text: i.message }))));
      fill("import-counts", JSON.stringify(report.counts || {}, null, 1));
    });
  }
})();
