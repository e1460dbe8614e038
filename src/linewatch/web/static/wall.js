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
    // an alarm that joined an alerted incident after its pop-up: look in the incident as now read
    for (const alert of state.alerts.slice()) {
      const inc = byId.get(alert.id);
      if (inc && inc.alarm_ids.includes(data.alarm_id)) settle(alert.id);
    }
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

  // ------------------------------------------------------------------ the open incidents, kept sorted
  /* 5,000 open incidents during a burst (bench/wall.py, decision 101): an update touches only
     the incidents it names. Each incident read is prepared once (sort key, regions, key
     customers); `order` (state.incidents) stays sorted — an update takes the old copy out and puts
     the new one in by binary search — and the counters move by the difference. Drawing happens
     in one animation frame for all updates applied since the last one, and only for the rows on
     screen. */
  const RANK = Object.fromEntries(LEVELS.map((l, n) => [l, n]));
  const byId = new Map();
  let order = state.incidents;
  const counts = Object.fromEntries(LEVELS.map((l) => [l, 0]));
  const regionCount = new Map();  // region → open incidents hurting one of its customers
  const keyCount = new Map();  // key customer → open incidents with a circuit of theirs out

  function prepare(inc) {
    const regions = new Set(), keys = new Set();
    for (const imp of openImpacts(inc)) {
      const c = state.customers.get(imp.customer);
      if (c && c.region) regions.add(c.region);
      if (c && c.key_customer) keys.add(imp.customer);
    }
    inc._rank = inc.level in RANK ? RANK[inc.level] : -1;
    inc._opened = Date.parse(inc.opened_at);
    inc._regions = [...regions];
    inc._keys = [...keys];
    return inc;
  }
  // worst level first, then the oldest; the id settles ties so that every incident has one place
  const before = (a, b) => a._rank - b._rank || a._opened - b._opened || a.id - b.id;

  function place(inc) {  // the first position whose incident does not come before inc
    let lo = 0, hi = order.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (before(order[mid], inc) < 0) lo = mid + 1; else hi = mid; }
    return lo;
  }

  function tally(inc, sign) {
    counts[inc.level] = (counts[inc.level] || 0) + sign;
    for (const r of inc._regions) regionCount.set(r, (regionCount.get(r) || 0) + sign);
    for (const k of inc._keys) {
      const n = (keyCount.get(k) || 0) + sign;
      if (n > 0) keyCount.set(k, n); else keyCount.delete(k);
    }
  }

  function resetRegions() {
    regionCount.clear();
    for (const c of state.customers.values()) if (c.region) regionCount.set(c.region, 0);
  }

  function replaceAll(incidents) {
    byId.clear();
    order = incidents.map(prepare).sort(before);
    state.incidents = order;
    for (const l of Object.keys(counts)) counts[l] = 0;
    resetRegions();
    keyCount.clear();
    for (const inc of order) { byId.set(inc.id, inc); tally(inc, 1); }
  }

  // the incident as now read (null: no longer open); returns whether it is (still) open
  function upsert(id, inc) {
    const old = byId.get(id);
    if (old) {
      tally(old, -1);
      const at = place(old);
      if (order[at] === old) order.splice(at, 1);
      else order.splice(order.indexOf(old), 1);  // not reached: every incident sits where place() says
      byId.delete(id);
    }
    if (!inc) return false;
    prepare(inc);
    order.splice(place(inc), 0, inc);
    byId.set(id, inc);
    tally(inc, 1);
    return true;
  }

  // ------------------------------------------------------------------ drawing
  /* The list draws the rows that fit the screen (more as the list is scrolled down), each kept by
     incident id and rebuilt only when what it shows changed; tick() runs every second and only
     rewrites the age and countdown cells of the rows drawn. */
  let rowsWanted = Math.ceil(window.innerHeight / 30) + 10;
  const rowCache = new Map();  // incident id → { sig, tr, age, due, opened, dueAt }
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
    return { tr, age, due, opened: inc._opened, dueAt: inc.diagnosis ? null : Date.parse(inc.diagnosis_due) };
  }

  function tickRow(row, nowMs) {
    const age = fmtDuration((nowMs - row.opened) / 1000);
    if (row.age.textContent !== age) row.age.textContent = age;
    const left = row.dueAt === null ? null : row.dueAt - nowMs;
    const due = left === null ? t("diagnosed") : fmtDuration(left / 1000);
    if (row.due.textContent !== due) row.due.textContent = due;
    const late = left !== null && left < 0;
    if (row.late !== late) { row.late = late; row.due.classList.toggle("overdue", late); }
  }

  function tick() {
    const nowMs = now();
    for (const id of shown) { const row = rowCache.get(id); if (row) tickRow(row, nowMs); }
    fill("clock", LW.fmtTime(new Date(nowMs).toISOString()));
  }

  const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };
  const levelNodes = [...document.querySelectorAll("#levels [data-level]")];
  const regionTiles = new Map();  // region → { tile, num, load }

  function drawRegions() {
    if (regionTiles.size !== regionCount.size || [...regionCount.keys()].some((r) => !regionTiles.has(r))) {
      regionTiles.clear();
      fill("regions", [...regionCount.keys()].sort().map((code) => {
        const num = el("span", { class: "rnum", text: "0" });
        const tile = el("div", { class: "region load-0", dataset: { region: code } }, el("span", { class: "rname", text: code }), num);
        regionTiles.set(code, { tile, num, load: 0 });
        return tile;
      }));
    }
    for (const [code, n] of regionCount) {
      const tile = regionTiles.get(code);
      setText(tile.num, String(n));
      const load = n === 0 ? 0 : n < 3 ? 1 : n < 6 ? 2 : 3;
      if (tile.load !== load) { tile.tile.className = "region load-" + load; tile.load = load; }
    }
  }

  let keySig = null;
  function drawKeyList() {
    // the first 50 key customers down, each with its worst incident (the first in order)
    const firsts = new Map();
    for (const inc of order) {
      for (const k of inc._keys) if (!firsts.has(k)) firsts.set(k, inc);
      if (firsts.size >= 50 || firsts.size === keyCount.size) break;
    }
    const items = [...firsts.entries()].slice(0, 50);
    const sig = items.map(([code, inc]) => code + ":" + inc.id + ":" + inc.level).join(",");
    if (sig === keySig) return;
    keySig = sig;
    fill("key-list", items.map(([code, inc]) => {
      const c = state.customers.get(code);
      return el("li", { class: "lvl-" + inc.level }, el("a", { href: "/incidents/" + inc.id, text: c ? c.name : code }),
        el("span", { class: "tag", text: t("level_" + inc.level) }));
    }));
  }

  function drawRows() {
    const top = order.slice(0, rowsWanted);
    const keep = new Set();
    for (const inc of top) {
      const sig = rowSignature(inc);
      let row = rowCache.get(inc.id);
      if (!row || row.sig !== sig) {
        if (row) row.tr.remove();
        row = { ...buildRow(inc), sig, late: null };
        rowCache.set(inc.id, row);
      }
      keep.add(inc.id);
    }
    for (const [id, row] of rowCache) if (!keep.has(id)) { row.tr.remove(); rowCache.delete(id); }
    // move only what moved: a new incident at the top is one insertion, not a redraw of the list
    const body = document.getElementById("incident-rows");
    let at = body.firstElementChild;
    for (const inc of top) {
      const tr = rowCache.get(inc.id).tr;
      if (at === tr) at = at.nextElementSibling; else body.insertBefore(tr, at);
    }
    while (at) { const next = at.nextElementSibling; at.remove(); at = next; }
    shown = top.map((i) => i.id);
    const nowMs = now();
    for (const id of shown) { const row = rowCache.get(id); if (row.late === null) tickRow(row, nowMs); }
  }

  let frame = null, frameSince = null;
  function draw() {  // the one animation frame that writes what the updates since the last changed
    frame = null;
    for (const node of levelNodes) setText(node, String(counts[node.dataset.level] || 0));
    setText(document.getElementById("key-down"), String(keyCount.size));
    setText(document.getElementById("open-count"), `(${order.length})`);
    drawRegions();
    drawKeyList();
    drawRows();
    if (frameSince !== null) state.stats.applies.push(performance.now() - frameSince);
    frameSince = null;
    if (document.body.dataset.ready !== "1") performance.mark("lw-ready");
    document.body.dataset.ready = "1";
  }
  function render(since) {
    if (since !== null && frameSince === null) frameSince = since;
    if (frame === null) frame = requestAnimationFrame(draw);
  }

  document.querySelector(".list-panel").addEventListener("scroll", (e) => {
    const panel = e.currentTarget;  // near the end of the rows drawn: draw some more
    if (panel.scrollTop + panel.clientHeight > panel.scrollHeight - 300 && rowsWanted < order.length) {
      rowsWanted += 50;
      render(null);
    }
  }, { passive: true });

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

  /* What to re-read: the incidents the stream named — an `incidents` event lists its changes, an
     `alarms` event the incidents its alarms joined or left — or everything: at the start, on
     resync, and (at most every FULL_MS) for roles whose events carry no ids. */
  const changed = new Set();
  let needFull = true;
  state.stats.reread = [];  // what each re-read asked for ("all" or the ids), for the tests
  async function reread() {
    if (needFull) {
      needFull = false;
      changed.clear();
      state.stats.reread.push("all");
      const incidents = await all("/api/v1/incidents?state=open", 100000);  // every one: the counters count them all
      replaceAll(incidents);
      return order;
    }
    const ids = [...changed];
    changed.clear();
    const pages = [];
    for (let i = 0; i < ids.length; i += 200) {
      const part = ids.slice(i, i + 200);
      state.stats.reread.push(part);
      pages.push(api("GET", "/api/v1/incidents?state=all&limit=1000&ids=" + part.join(",")).then((page) => [part, page]));
    }
    const fresh = [];
    for (const [part, page] of await Promise.all(pages)) {
      const got = new Map(page.items.map((inc) => [inc.id, inc]));
      for (const id of part) {
        const inc = got.get(id);
        if (upsert(id, inc && inc.state === "open" ? inc : null)) fresh.push(inc);
      }
    }
    return fresh;
  }

  async function refresh() {
    const since = state.stats.pending;  // the first event this refresh covers
    state.stats.pending = null;
    try {
      const fresh = await reread();
      const first = state.seen === null;  // what was open when the wall opened is not announced again
      if (first) state.seen = new Set();
      for (const inc of fresh) {
        // a planned outage (cutover window) is shown, not announced: nobody is to be dispatched
        if (!inc._keys.length || inc.planned || !(inc.level === "urgent" || inc.level === "general") || state.seen.has(inc.id)) continue;
        state.seen.add(inc.id);
        if (!first) raise(inc);
      }
      for (const alert of state.alerts.slice()) if (!byId.has(alert.id)) settle(alert.id);
      render(since);
    } catch (e) {
      // what this re-read was to apply is not lost: the next one reads everything again
      needFull = true;
      setTimeout(soon, FULL_MS);
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
  const named = (ids) => ids.filter((id) => id !== undefined && id !== null);
  const onIncidents = (data) => {
    const ids = named((data.changes || []).map((c) => c.incident_id));
    if (ids.length) ids.forEach((id) => changed.add(id)); else needFull = true;
    soon();
  };
  const onAlarms = (data) => {
    // alarms that joined or left an incident without changing what it hurts made no incident event
    if (Array.isArray(data.incidents)) {
      const ids = named(data.incidents);
      if (ids.length) { ids.forEach((id) => changed.add(id)); soon(); }
    } else fullSoon();  // a role whose events carry no ids
    unmatchedSoon();
  };
  const onResync = () => { needFull = true; soon(); unmatchedSoon(); };
  (async () => {
    await Promise.all([LW.syncClock(), loadInventory()]);
    resetRegions();
    // the stream's first hello asks for the full read (a resync): it covers everything up to the
    // hello and the stream everything after; reading before it too read the whole list twice
    live({ resync: onResync, incidents: onIncidents, alarms: onAlarms, ack: onAck });
    setTimeout(() => { if (state.seen === null && !running) { soon(); unmatchedSoon(); } }, 3000);  // no stream: draw anyway
    tick();
    setInterval(tick, 1000);
    setInterval(LW.syncClock, 60000);
  })();
})();
