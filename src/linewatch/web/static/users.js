/* Users (admins): list, create, set role, disable or enable. Through /api/v1/admin/users. */
"use strict";
(() => {
  const { t, api, el, fill, boot } = LW;
  const form = document.getElementById("user-form");

  async function change(username, body) {
    try { await api("PATCH", `/api/v1/admin/users/${encodeURIComponent(username)}`, body); LW.toast(t("done")); }
    catch (e) { LW.toast(t("failed") + ": " + e.message, true); }
    await load();
  }

  function roleCell(user) {
    if (user.staff) return el("span", { title: t("role_from_staff"), text: boot.roles[user.role] || user.role });
    const select = el("select", { class: "role", onchange: () => change(user.username, { role: select.value }) },
      Object.entries(boot.roles).map(([value, text]) => el("option", { value, text, selected: value === user.role })));
    return select;
  }

  async function load() {
    const { items } = await api("GET", "/api/v1/admin/users");
    fill("user-rows", items.map((u) => el("tr", { class: u.active ? "" : "off", dataset: { user: u.username } },
      el("td", { class: "username", text: u.username }), el("td", { text: u.display_name }),
      el("td", {}, roleCell(u)), el("td", { text: u.staff || "" }),
      el("td", { class: "active", text: u.active ? t("enabled") : t("disabled") }),
      el("td", {}, el("button", { class: "ghost small toggle", onclick: () => change(u.username, { active: !u.active }),
        text: u.active ? t("disable") : t("enable") })))));
    document.body.dataset.ready = "1";
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const body = { password: data.get("password") || null, display_name: (data.get("display_name") || "").trim() };
    if ((data.get("staff") || "").trim()) body.staff = data.get("staff").trim();
    else Object.assign(body, { username: (data.get("username") || "").trim(), role: data.get("role") });
    try { await api("POST", "/api/v1/admin/users", body); LW.toast(t("done")); form.reset(); }
    catch (e) { LW.toast(t("failed") + ": " + e.message, true); }
    await load();
  });
  load().catch((e) => LW.toast(t("failed") + ": " + e.message, true));
})();
