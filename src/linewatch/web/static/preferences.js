/* Notification preferences: channels in order (checked = used; ↑ moves up) and quiet hours.
   Everyone edits their own; an admin may load anyone's by staff code. */
"use strict";
(() => {
  const { t, api, el, fill, boot } = LW;
  let target = null; // a staff code when an admin edits someone else's
  const path = () => (target ? `/api/v1/staff/${encodeURIComponent(target)}` : "/api/v1/me")
    + "/notify-preferences?lang=" + boot.lang;
  const fail = (e) => fill("prefs-status", el("span", { class: "bad", text: t("failed") + ": " + e.message }));

  function up(event) {
    const item = event.target.closest("li");
    if (item.previousElementSibling) item.parentNode.insertBefore(item, item.previousElementSibling);
  }

  function show(p) {
    const label = Object.fromEntries(p.choices.map((c) => [c.value, c.label]));
    const order = [...p.channels, ...p.choices.map((c) => c.value).filter((v) => !p.channels.includes(v))];
    fill("prefs-who", `${p.staff} ${p.name}`);
    fill("prefs-channels", order.map((v) => el("li", { dataset: { channel: v } },
      el("label", { class: "inline" },
        el("input", { type: "checkbox", checked: p.channels.includes(v), disabled: !p.addresses[v] }), " " + label[v]),
      el("span", { class: "muted", text: " " + (p.addresses[v] || t("no_address")) + " " }),
      el("button", { type: "button", class: "ghost", title: t("move_up"), text: "↑", onclick: up }))));
    document.getElementById("quiet-start").value = p.quiet_start || "";
    document.getElementById("quiet-end").value = p.quiet_end || "";
    document.body.dataset.ready = "1";
  }

  async function load() {
    fill("prefs-status");
    show(await api("GET", path()));
  }

  document.getElementById("prefs-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const channels = [...document.querySelectorAll("#prefs-channels li")]
      .filter((li) => li.querySelector("input").checked).map((li) => li.dataset.channel);
    const body = {
      channels,
      quiet_start: document.getElementById("quiet-start").value || null,
      quiet_end: document.getElementById("quiet-end").value || null,
    };
    try {
      show(await api("PUT", path(), body));
      fill("prefs-status", t("saved"));
    } catch (err) { fail(err); }
  });
  const loader = document.getElementById("prefs-load");
  if (loader) {
    loader.addEventListener("click", () => {
      target = document.getElementById("prefs-staff").value.trim() || null;
      load().catch(fail);
    });
  }
  if (boot.linked) load().catch(fail);
  else document.body.dataset.ready = "1";
})();
