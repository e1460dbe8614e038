/* 告警大屏: counters, region grid, open incidents, key-customer pop-ups spoken and sounded until acknowledged. */
"use strict";
(() => {
  const { t, api, all, el, fill, now, fmtDuration, live, debounce } = LW;
  const LEVELS = ["urgent", "general", "overdue", "normal"];
  const COALESCE_MS = 100, UNMATCHED_MS = 2000, FULL_MS = 5000;
  const state = {
    customers: new Map(), circuits: new Map(), incidents: [], seen: null,
    stats: { applies: [], pending: null },  // update-apply times (event → redrawn), for bench/wall.py
    alerts: [], muted: localStorage.getItem("lw.muted") === "1",
    volume: Number(localStorage.getItem("lw.volume") || "0.6"), audio: null, beeper: null,
  };
  window.LW_WALL = state;

  async function loadInventory() {
    const [customers, circuits] = await Promise.all([all("/api/v1/customers"), all("/api/v1/circuits")]);
    state.customers = new Map(customers.map((c) => [c.code, c]));
    state.circuits = new Map(circuits.map((c) => [c.code, c]));
  }

  const isKey = (code) => { const c = state.customers.get(code); return !!(c && c.key_customer); };
  const openImpacts = (inc) => inc.impacts.filter((i) => !i.until);

  function headline(inc) {
    const impacts = openImpacts(inc);
    const order = (i) => (isKey(i.customer) ? 0 : 2) + (i.impact === "down" ? 0 : 1);
    const main = impacts.slice().sort((a, b) => order(a) - order(b))[0];
    if (!main) return { customer: "", text: "" };
    const customer = state.customers.get(main.customer);
    const circuit = state.circuits.get(main.circuit) || {};
    const name = customer ? customer.name : main.customer;
    const parts = [name, t("role_" + circuit.site_role), t("svc_" + circuit.service_type), t("impact_" + main.impact)];
    return { customer: name, main, text: parts.filter(Boolean).join(" ") };
  }

  function speechText(inc) {
    return t("fault_" + inc.level) + (LW.zh ? "：" : ": ") + headline(inc).text;
  }

  // ------------------------------------------------------------------ sound
  function beep() {
    if (state.muted || !state.alerts.length) return;
    try {
      if (!state.audio) state.audio = new (window.AudioContext || window.webkitAudioContext)();
      const ctx = state.audio;
      if (ctx.state === "suspended") ctx.resume();
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = state.volume * 0.4;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.35);
    } catch (e) { /* no audio device: the pop-up still shows */ }
  }

  function updateSound() {
    const sounding = state.alerts.length > 0;
    document.body.dataset.sounding = sounding ? "1" : "0";
    if (sounding && !state.beeper) { beep(); state.beeper = setInterval(beep, 1500); }
    if (!sounding && state.beeper) { clearInterval(state.beeper); state.beeper = null; }
  }

  function speak(text) {
    if (state.muted || !("speechSynthesis" in window)) return;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = LW.zh ? "zh-CN" : "en-US";
    utterance.volume = state.volume;
    window.speechSynthesis.speak(utterance);
  }

  // ------------------------------------------------------------------ pop-up
  function raise(inc) {
    if (state.alerts.some((a) => a.id === inc.id)) return;
    state.alerts.push({ id: inc.id, alarmIds: inc.alarm_ids.slice(), root: inc.root_alarm_id, text: headline(inc).text, level: inc.level });
    speak(speechText(inc));
    showPopup();
    updateSound();
  }

  function showPopup() {
    const popup = document.getElementById("popup");
    const top = state.alerts[0];
    if (!top) { popup.hidden = true; return; }
    popup.hidden = false;
    popup.className = "popup lvl-" + top.level;
    fill("popup-title", t("fault_" + top.level) + " · #" + top.id + (state.alerts.length > 1 ? ` (+${state.alerts.length - 1})` : ""));
    fill("popup-text", top.text);
    document.getElementById("popup-open").setAttribute("href", "/incidents/" + top.id);
  }

  function settle(incidentId) {
    state.alerts = state.alerts.filter((a) => a.id !== incidentId);
    showPopup();
    updateSound();
  }

  function onAck(data) {
    for (const alert of state.alerts.slice()) {
      if (alert.alarmIds.includes(data.alarm_id) || alert.root === data.alarm_id) settle(alert.id);
    }
    const inc = state.incidents.find((i) => i.alarm_ids.includes(data.alarm_id));
    if (inc) settle(inc.id);
  }

  document.getElementById("popup-ack").addEventListener("click", async () => {
    const top = state.alerts[0];
    if (!top) return;
    try {
      if (top.root) await api("POST", `/api/v1/alarms/${top.root}/ack`, { note: "wall" });
      settle(top.id);
    } catch (e) { LW.toast(t("failed") + ": " + e.message, true); }
  });
  document.getElementById("popup-close").addEventListener("click", () => {
    document.getElementById("popup").hidden = true;  // hides; the sound goes on until acknowledged
  });

  const muteButton = document.getElementById("mute");
  const volume = document.getElementById("volume");
  volume.value = state.volume;
  function showMute() { muteButton.textContent = state.muted ? t("unmute") : t("mute"); muteButton.classList.toggle("on", state.muted); }
  muteButton.addEventListener("click", () => {
    state.muted = !state.muted;
    localStorage.setItem("lw.muted", state.muted ? "1" : "0");
    if (state.muted && "speechSynthesis" in window && window.speechSynthesis.cancel) window.speechSynthesis.cancel();
    showMute();
  });
  volume.addEventListener("input", () => { state.volume = Number(volume.value); localStorage.setItem("lw.volume", volume.value); });
  document.addEventListener("click", () => { if (state.audio && state.audio.state === "suspended") state.audio.resume(); });
  showMute();

  // ------------------------------------------------------------------ rendering
  function sortKey(a, b) {
    const la = LEVELS.indexOf(a.level), lb = LEVELS.indexOf(b.level);
    return la !== lb ? la - lb : Date.parse(a.opened_at) - Date.parse(b.opened_at);
  }

  /* Rendering is split so that 5,000 open incidents stay cheap (bench/wall.py): render() runs
     only when data changed — counters over all incidents, then the first ROWS rows, each row kept
     by incident id and rebuilt only when what it shows changed; tick() runs every second and only
     rewrites the age and countdown cells of the rows on screen. */
  const ROWS = 300;
  const rowCache = new Map();  // incident id → { sig, tr, age, due }
  let shown = [];

  function rowSignature(inc) {
    const imp = inc.impacts.map((i) => i.circuit + (i.until ? "-" : "+") + i.impact).join(",");
    return [inc.level, inc.planned ? 1 : 0, JSON.stringify(inc.assurance || null), inc.diagnosis ? 1 : 0, inc.diagnosis_due, imp].join("|");
  }

  function buildRow(inc) {
    const head = headline(inc);
    const region = head.main ? (state.customers.get(head.main.customer) || {}).region : "";
    const age = el("td", { class: "age" }), due = el("td", { class: "due" });
    const tr = el("tr", { class: "lvl-" + inc.level + (head.main && isKey(head.main.customer) ? " key" : "") + (inc.assurance ? " assured" : ""), dataset: { incident: inc.id } },
      el("td", {}, el("span", { class: "badge lvl-" + inc.level, text: t("level_" + inc.level) }), " ", LW.assuranceBadge(inc)),
      el("td", {}, el("a", { href: "/incidents/" + inc.id, text: head.customer || "#" + inc.id }),
        inc.planned ? el("span", { class: "tag planned", text: t("planned") }) : null),
      el("td", { class: "what", text: head.text }),
      el("td", { text: region || "" }), age, due);
    return { tr, age, due, opened: Date.parse(inc.opened_at), dueAt: inc.diagnosis ? null : Date.parse(inc.diagnosis_due) };
  }

  function tick() {
    const nowMs = now();
    for (const id of shown) {
      const row = rowCache.get(id);
      if (!row) continue;
      const age = fmtDuration((nowMs - row.opened) / 1000);
      if (row.age.textContent !== age) row.age.textContent = age;
      const left = row.dueAt === null ? null : row.dueAt - nowMs;
      const due = left === null ? t("diagnosed") : fmtDuration(left / 1000);
      if (row.due.textContent !== due) row.due.textContent = due;
      row.due.classList.toggle("overdue", left !== null && left < 0);
    }
    fill("clock", LW.fmtTime(new Date(nowMs).toISOString()));
  }

  function render() {
    const incidents = state.incidents.slice().sort(sortKey);
    const counts = Object.fromEntries(LEVELS.map((l) => [l, 0]));
    const regions = new Map();
    for (const c of state.customers.values()) if (c.region && !regions.has(c.region)) regions.set(c.region, 0);
    const keyDown = new Map();
    for (const inc of incidents) {
      counts[inc.level] = (counts[inc.level] || 0) + 1;
      const touched = new Set();
      for (const imp of openImpacts(inc)) {
        const c = state.customers.get(imp.customer);
        if (c && c.region) touched.add(c.region);
        if (isKey(imp.customer) && !keyDown.has(imp.customer)) keyDown.set(imp.customer, inc);
      }
      for (const r of touched) regions.set(r, (regions.get(r) || 0) + 1);
    }
    document.querySelectorAll("#levels [data-level]").forEach((n) => { n.textContent = counts[n.dataset.level] || 0; });
    fill("key-down", String(keyDown.size));
    fill("open-count", `(${incidents.length})`);
    fill("regions", [...regions.entries()].sort().map(([code, n]) =>
      el("div", { class: "region load-" + (n === 0 ? 0 : n < 3 ? 1 : n < 6 ? 2 : 3), dataset: { region: code } },
        el("span", { class: "rname", text: code }), el("span", { class: "rnum", text: n }))));
    fill("key-list", [...keyDown.entries()].slice(0, 50).map(([code, inc]) => {
      const c = state.customers.get(code);
      return el("li", { class: "lvl-" + inc.level }, el("a", { href: "/incidents/" + inc.id, text: c ? c.name : code }),
        el("span", { class: "tag", text: t("level_" + inc.level) }));
    }));
    const top = incidents.slice(0, ROWS);
    const keep = new Set();
    for (const inc of top) {
      const sig = rowSignature(inc);
      let row = rowCache.get(inc.id);
      if (!row || row.sig !== sig) { row = { ...buildRow(inc), sig }; rowCache.set(inc.id, row); }
      keep.add(inc.id);
    }
    for (const id of rowCache.keys()) if (!keep.has(id)) rowCache.delete(id);
    const order = top.map((i) => i.id);
    const body = document.getElementById("incident-rows");
    const same = order.length === body.children.length && order.every((id, n) => body.children[n] === rowCache.get(id).tr);
    if (!same) body.replaceChildren(...order.map((id) => rowCache.get(id).tr));
    shown = order;
    tick();
  }

  // ------------------------------------------------------------------ data
  async function countUnmatched() {
    try {
      const unmatched = await api("GET", "/api/v1/alarms?state=active&matched=false&limit=1000");
      fill("unmatched", unmatched.items.length + (unmatched.next_cursor ? "+" : ""));
    } catch (e) { /* shown again at the next count */ }
  }
  // fn at most once every ms, the last call never lost (it runs when the interval is over)
  function throttled(fn, ms) {
    let at = -Infinity, timer = null;
    return () => {
      if (timer) return;
      timer = setTimeout(() => { at = performance.now(); timer = null; fn(); }, Math.max(0, at + ms - performance.now()));
    };
  }
  const unmatchedSoon = throttled(countUnmatched, UNMATCHED_MS);  // the count reads up to 1,000 alarms

  /* What to re-read: the incidents the stream named (an `incidents` event lists its changes), or
     everything — at the start, on resync, for roles whose events carry no ids, and (at most every
     FULL_MS) after alarms, which can join an incident without an incident event. */
  const byId = new Map();
  const changed = new Set();
  let needFull = true;
  async function reread() {
    if (needFull) {
      needFull = false;
      changed.clear();
      const incidents = await all("/api/v1/incidents?state=open", 100000);  // every one: the counters count them all
      byId.clear();
      for (const inc of incidents) byId.set(inc.id, inc);
      return;
    }
    const ids = [...changed];
    changed.clear();
    for (let i = 0; i < ids.length; i += 200) {
      const part = ids.slice(i, i + 200);
      const page = await api("GET", "/api/v1/incidents?state=all&limit=1000&ids=" + part.join(","));
      const got = new Map(page.items.map((inc) => [inc.id, inc]));
      for (const id of part) {
        const inc = got.get(id);
        if (inc && inc.state === "open") byId.set(id, inc); else byId.delete(id);
      }
    }
  }

  async function refresh() {
    const since = state.stats.pending;  // the first event this refresh covers
    state.stats.pending = null;
    try {
      await reread();
      const incidents = [...byId.values()];
      state.incidents = incidents;
      const first = state.seen === null;  // what was open when the wall opened is not announced again
      if (first) state.seen = new Set();
      for (const inc of incidents) {
        const keyImpact = openImpacts(inc).some((i) => isKey(i.customer));
        // a planned outage (cutover window) is shown, not announced: nobody is to be dispatched
        if (!keyImpact || inc.planned || !(inc.level === "urgent" || inc.level === "general") || state.seen.has(inc.id)) continue;
        state.seen.add(inc.id);
        if (!first) raise(inc);
      }
      const open = new Set(incidents.map((i) => i.id));
      for (const alert of state.alerts.slice()) if (!open.has(alert.id)) settle(alert.id);
      render();
      if (since !== null) state.stats.applies.push(performance.now() - since);
      if (document.body.dataset.ready !== "1") performance.mark("lw-ready");
      document.body.dataset.ready = "1";
    } catch (e) {
      LW.toast(t("failed") + ": " + e.message, true);
    }
  }

  const noted = (fn) => (...args) => { if (state.stats.pending === null) state.stats.pending = performance.now(); fn(...args); };
  /* Coalesce a burst of events: one refresh at a time, started COALESCE_MS after the first event
     it covers; events during a refresh ask for one more after it (never postponed forever, as a
     debounce would be while events keep coming). */
  let running = false, again = false, timer = null;
  async function run() {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    await refresh();
    running = false;
    if (again) { again = false; schedule(); }
  }
  function schedule() { if (!timer) timer = setTimeout(run, COALESCE_MS); }
  const soon = noted(schedule);
  const fullSoon = throttled(() => { needFull = true; soon(); }, FULL_MS);
  const onIncidents = (data) => {
    const ids = (data.changes || []).map((c) => c.incident_id).filter((id) => id !== undefined && id !== null);
    if (ids.length) ids.forEach((id) => changed.add(id)); else needFull = true;
    soon();
  };
  const onAlarms = () => { fullSoon(); unmatchedSoon(); };
  const onResync = () => { needFull = true; soon(); unmatchedSoon(); };
  (async () => {
    await Promise.all([LW.syncClock(), loadInventory()]);
    await Promise.all([refresh(), countUnmatched()]);
    live({ resync: onResync, incidents: onIncidents, alarms: onAlarms, ack: onAck });
    setInterval(tick, 1000);
    setInterval(LW.syncClock, 60000);
  })();
})();
