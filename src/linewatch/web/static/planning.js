/* Helpers shared by the planning screens (cutovers, assurance, drills): operator-local days and
   form values. Times typed into datetime-local fields are operator-local; the API reads them so. */
"use strict";
const LW_PLAN = (() => {
  const tz = "Asia/Shanghai";
  const dayKey = (ms) => new Date(ms).toLocaleDateString("sv-SE", { timeZone: tz });  // YYYY-MM-DD
  function dayLabel(key) {
    const opts = { timeZone: tz, month: "2-digit", day: "2-digit", weekday: "short" };
    return new Date(key + "T12:00:00+08:00").toLocaleDateString(LW.zh ? "zh-CN" : "en-GB", opts);
  }
  /* An RFC 3339 time → the value a datetime-local field shows (operator-local, minutes). */
  function toLocalInput(iso) {
    if (!iso) return "";
    const ms = Date.parse(iso);
    const time = new Date(ms).toLocaleTimeString("en-GB", { timeZone: tz, hour12: false, hour: "2-digit", minute: "2-digit" });
    return dayKey(ms) + "T" + time;
  }
  const lines = (text) => String(text || "").split("\n").map((l) => l.trim()).filter(Boolean);
  function period(startIso, endIso) {
    return LW.fmtTime(startIso, true) + " – " + LW.fmtTime(endIso, true);
  }
  /* Submit a form's JSON through the API; the error (already a sentence naming the problem) shows in the form. */
  function submitter(form, build, done) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = form.querySelector(".error");
      error.textContent = "";
      try {
        const [method, path, body] = build(new FormData(form));
        const result = await LW.api(method, path, body);
        LW.toast(LW.t("done"));
        await done(result);
      } catch (e) {
        error.textContent = e.message + (e.body && e.body.detail && typeof e.body.detail !== "object" ? " · " + e.body.detail : "");
      }
    });
  }
  return { dayKey, dayLabel, toLocalInput, lines, period, submitter };
})();
