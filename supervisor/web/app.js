/* examroom dashboard (vanilla JS, no build step).
 *
 * Reads: the supervisor API under /api/v1 (rooms, machines, alerts, incidents, CSV export),
 * its Server-Sent Events stream for live updates, and the dashboard texts from
 * /api/v1/i18n/{lang} (agent/i18n/dashboard.toml). The supervisor token lives in
 * sessionStorage, so closing the tab logs out.
 *
 * Every server-provided string goes through textContent (el() below), never innerHTML:
 * host names, window titles and process names come from candidates' machines.
 */
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "examroom.token";
const LANG_KEY = "examroom.lang";

const state = {
  lang: initialLang(),
  texts: {},
  token: sessionStorage.getItem(TOKEN_KEY),
  room: null,          // {code, name, ...}
  tab: "live",
  machines: new Map(), // machine_id -> row of /machines
  alerts: new Map(),   // event id -> alert
  events: [],          // recent events (newest first), for the journal
  es: null,
  liveOk: false,
  openDetails: new Set(),
  showAcked: false,
  incidents: null,
  timers: [],
};

/* ---------- language and formatting ---------- */

function initialLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === "fr" || saved === "en") return saved;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "fr";
  return nav.toLowerCase().startsWith("fr") ? "fr" : "en";
}

async function loadTexts(lang) {
  try {
    const res = await fetch(`${API}/i18n/${lang}`);
    state.texts = res.ok ? await res.json() : {};
  } catch (_) {
    state.texts = {};
  }
  state.lang = lang;
  document.documentElement.lang = lang;
}

/** The text of `key`, with {field} replaced; the key itself when missing (visible bug). */
function t(key, fields) {
  let text = Object.prototype.hasOwnProperty.call(state.texts, key) ? state.texts[key] : key;
  if (fields) text = text.replace(/\{(\w+)\}/g, (m, k) => (k in fields ? String(fields[k]) : m));
  return text;
}

function parseDate(value) {
  if (!value) return null;
  const d = new Date(value);
  return isNaN(d.getTime()) ? null : d;
}

function fmtDateTime(value) {
  const d = parseDate(value);
  return d ? new Intl.DateTimeFormat(state.lang, { dateStyle: "medium", timeStyle: "short" }).format(d) : "";
}

function fmtTime(value) {
  const d = parseDate(value);
  return d ? new Intl.DateTimeFormat(state.lang, { timeStyle: "medium" }).format(d) : "";
}

function fmtNumber(value, digits = 0) {
  return new Intl.NumberFormat(state.lang, { maximumFractionDigits: digits }).format(value);
}

/** "il y a 3 min" / "3 min ago", from an ISO date. */
function fmtAge(value) {
  const d = parseDate(value);
  if (!d) return "";
  const seconds = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(state.lang, { numeric: "auto", style: "long" });
  const abs = Math.abs(seconds);
  if (abs < 5) return t("dash.time.just_now");
  if (abs < 60) return rtf.format(Math.round(seconds / 5) * 5 || Math.sign(seconds) * 5, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86400), "day");
}

/* ---------- DOM helpers (text only, never HTML) ---------- */

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function view() { return document.getElementById("view"); }

function setView(name, ...nodes) {
  document.body.dataset.view = name;
  view().replaceChildren(...nodes);
}

function translateStatic() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const b of document.querySelectorAll("button.lang")) b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
  document.getElementById("logout").hidden = !state.token;
  document.querySelector(".topnav").hidden = !state.token;
}

function showBanner(text) {
  const b = document.getElementById("banner");
  b.textContent = text;
  b.hidden = false;
}

function hideBanner() { document.getElementById("banner").hidden = true; }

/* ---------- API ---------- */

class ApiError extends Error {
  constructor(status, message, detail) { super(message); this.status = status; this.detail = detail; }
}

async function api(path, opts = {}) {
  const headers = {};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  let body;
  if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(opts.json); }
  let res;
  try {
    res = await fetch(API + path, { method: opts.method || "GET", headers, body });
  } catch (err) {
    throw new ApiError(0, t("dash.error.network"));
  }
  if (res.status === 401 && !opts.login) { expire(); throw new ApiError(401, t("dash.login.expired")); }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch (_) { /* not JSON */ }
    throw new ApiError(res.status, (data && data.error) || res.statusText, data && data.detail);
  }
  return opts.raw ? res : res.json();
}

/** Downloads an authenticated file: a plain link cannot carry the Authorization header. */
async function download(path, filename) {
  const res = await api(path, { raw: true });
  saveBlob(await res.blob(), filename);
}

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function expire() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  stopLive();
  state.expired = true;
  // After logging in again, the supervisor lands back on the page they were watching.
  const here = location.hash.replace(/^#/, "");
  if (here && here !== "/login") state.afterLogin = here;
  if (location.hash !== "#/login") location.hash = "#/login"; else route();
}

/* ---------- routing ---------- */

function route() {
  translateStatic();
  const hash = location.hash.replace(/^#/, "") || "/rooms";
  if (!state.token) { if (hash !== "/login") state.afterLogin = hash; return showLogin(); }
  const m = hash.match(/^\/room\/([^/]+)(?:\/(live|sheet|incidents))?$/);
  if (m) return showRoom(decodeURIComponent(m[1]), m[2] || "live");
  if (hash === "/login") { location.hash = "#/rooms"; return; }
  stopLive();
  return showRooms();
}

/* ---------- login ---------- */

function showLogin() {
  stopLive();
  hideBanner();
  const error = el("p", { class: "form-error", role: "alert", id: "login-error" });
  if (state.expired) { error.textContent = t("dash.login.expired"); state.expired = false; }
  const user = el("input", { id: "login-user", name: "username", autocomplete: "username", value: "admin", required: true });
  const pass = el("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { class: "card login", id: "login-form" },
    el("h1", { text: t("dash.login.title") }),
    el("p", { class: "muted", text: t("dash.login.intro") }),
    el("label", { for: "login-user", text: t("dash.login.username") }), user,
    el("label", { for: "login-password", text: t("dash.login.password") }), pass,
    error,
    el("button", { type: "submit", class: "btn btn-primary", id: "login-submit", text: t("dash.login.submit") }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      const res = await api("/login", { method: "POST", json: { username: user.value, password: pass.value }, login: true });
      state.token = res.token;
      sessionStorage.setItem(TOKEN_KEY, res.token);
      const next = state.afterLogin && state.afterLogin !== "/login" ? state.afterLogin : "/rooms";
      state.afterLogin = null;
      location.hash = "#" + next;
      if (location.hash === "#" + next) route();
    } catch (err) {
      error.textContent = err.status === 401 || err.status === 403 ? t("dash.login.bad_password") : err.message;
      pass.select();
    }
  });
  setView("login", form);
  (state.token ? user : pass).focus();
}

/* ---------- rooms ---------- */

function enrolCommands(code) {
  const server = location.origin;
  return [
    { label: t("dash.enrol.check"), cmd: `examroom check --server ${server} --room ${code}` },
    { label: t("dash.enrol.companion"), cmd: `examroom companion --server ${server} --room ${code}` },
  ];
}

function commandBlock(code) {
  return el("div", { class: "commands" }, enrolCommands(code).map(({ label, cmd }) =>
    el("div", { class: "command" },
      el("span", { class: "command-label", text: label }),
      el("code", { class: "cmd", text: cmd }),
      el("button", { type: "button", class: "btn btn-small no-print", text: t("dash.action.copy"),
        onclick: (ev) => { navigator.clipboard && navigator.clipboard.writeText(cmd); ev.target.textContent = t("dash.action.copied"); } }))));
}

async function showRooms(created) {
  stopLive();
  hideBanner();
  state.room = null;
  const list = el("div", { id: "rooms-list" }, el("p", { class: "muted", text: t("dash.loading") }));
  const name = el("input", { id: "room-name", name: "name", required: true, maxlength: 120, placeholder: t("dash.rooms.name_placeholder") });
  const err = el("p", { class: "form-error", role: "alert" });
  const form = el("form", { class: "card create-room", id: "create-room" },
    el("h2", { text: t("dash.rooms.create") }),
    el("label", { for: "room-name", text: t("dash.rooms.name") }),
    el("div", { class: "inline" }, name, el("button", { type: "submit", class: "btn btn-primary", id: "create-room-submit", text: t("dash.rooms.create_button") })),
    err);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    try {
      const room = await api("/rooms", { method: "POST", json: { name: name.value.trim() } });
      showRooms(room);
    } catch (e) { err.textContent = e.message; }
  });
  const parts = [el("h1", { text: t("dash.rooms.title") })];
  if (created) {
    parts.push(el("section", { class: "card created", id: "room-created", "aria-live": "polite" },
      el("h2", { text: t("dash.rooms.created", { name: created.name }) }),
      el("p", { text: t("dash.rooms.code_label") }),
      el("p", { class: "big-code", id: "created-code", text: created.code }),
      el("p", { text: t("dash.enrol.intro") }),
      commandBlock(created.code),
      el("a", { class: "btn btn-primary", href: `#/room/${encodeURIComponent(created.code)}`, text: t("dash.rooms.open") })));
  }
  parts.push(list, form);
  setView("rooms", ...parts);
  await loadRooms(list);
}

/** The room table; refreshed every 10 s while shown (counts change as machines report). */
async function loadRooms(list) {
  if (document.body.dataset.view !== "rooms" || !list.isConnected) return;
  clearTimeout(state.roomsTimer);
  state.roomsTimer = setTimeout(() => loadRooms(list), 10000);
  try {
    const rooms = await api("/rooms");
    if (!rooms.length) { list.replaceChildren(el("p", { class: "muted", text: t("dash.rooms.none") })); return; }
    list.replaceChildren(el("table", { class: "table rooms" },
      el("thead", {}, el("tr", {}, ["dash.rooms.col.name", "dash.rooms.col.code", "dash.rooms.col.ready", "dash.rooms.col.alerts", "dash.rooms.col.created"].map((k) => el("th", { text: t(k) })))),
      el("tbody", {}, rooms.map((r) => el("tr", { "data-room": r.code },
        el("td", {}, el("a", { href: `#/room/${encodeURIComponent(r.code)}`, text: r.name })),
        el("td", {}, el("code", { text: r.code })),
        el("td", { text: `${r.ready ?? 0}/${r.machines ?? 0}` }),
        el("td", { class: (r.alerts || 0) > 0 ? "alarm-text" : "", text: String(r.alerts ?? 0) }),
        el("td", { text: fmtDateTime(r.created_at) }))))));
  } catch (e) {
    if (e.status !== 401) list.replaceChildren(el("p", { class: "form-error", text: e.message }));
  }
}

/* ---------- room page ---------- */

async function showRoom(code, tab) {
  if (!state.room || state.room.code !== code || !document.getElementById("room")) {
    stopLive();
    hideBanner();
    state.room = { code, name: code };
    state.machines = new Map();
    state.alerts = new Map();
    state.events = [];
    state.lastSeq = 0;
    state.incidents = null;
    buildRoomPage();
    startLive();
    api("/rooms").then((rooms) => {
      if (!state.room || state.room.code !== code) return;  // the supervisor moved on meanwhile
      const found = rooms.find((r) => r.code === code);
      if (!found) { showBanner(t("dash.room.unknown", { code })); return; }
      state.room = found;
      document.getElementById("room-name").textContent = found.name;
      renderCounters();
      renderSheet();
    }).catch(() => {});
  }
  selectTab(tab);
}

function buildRoomPage() {
  const code = state.room.code;
  const tabs = [["live", "dash.tab.live"], ["sheet", "dash.tab.sheet"], ["incidents", "dash.tab.incidents"]];
  const page = el("div", { id: "room" },
    el("section", { class: "room-head" },
      el("div", { class: "room-title" },
        el("h1", { id: "room-name", text: state.room.name }),
        el("span", { class: "room-code" }, t("dash.room.code"), " ", el("strong", { text: code }))),
      el("div", { class: "counters", id: "counters", "aria-live": "polite" })),
    el("div", { class: "tabbar no-print" },
      el("nav", { class: "tabs", role: "tablist" }, tabs.map(([id, key]) =>
        el("a", { role: "tab", id: `tab-link-${id}`, "aria-controls": `tab-${id}`, "data-tab": id, href: `#/room/${encodeURIComponent(code)}/${id}`, text: t(key) }))),
      el("div", { class: "room-actions no-print" },
        // Compact: the live state only, so that a 30-machine room fits on one screen or projector.
        el("button", { type: "button", class: "btn", id: "compact", "aria-pressed": String(document.body.classList.contains("compact")),
          text: t("dash.action.compact"), onclick: (ev) => {
            const on = document.body.classList.toggle("compact");
            localStorage.setItem("examroom.compact", on ? "1" : "");
            ev.target.setAttribute("aria-pressed", String(on));
          } }), " ",
        el("button", { type: "button", class: "btn", id: "only-problems", "aria-pressed": String(document.body.classList.contains("only-problems")),
          text: t("dash.action.only_problems"), onclick: (ev) => {
            const on = document.body.classList.toggle("only-problems");
            ev.target.setAttribute("aria-pressed", String(on));
          } }), " ",
        el("button", { type: "button", class: "btn", id: "export-csv", text: t("dash.action.export_csv"),
          onclick: () => download(`/rooms/${encodeURIComponent(code)}/export.csv?lang=${state.lang}`, `examroom-${code}.csv`).catch((e) => showBanner(e.message)) }))),
    el("section", { id: "tab-live", class: "tab-panel" },
      el("div", { class: "room-body" },
        el("div", { class: "tiles-wrap" },
          el("details", { class: "enrol no-print", id: "enrol-help" },
            el("summary", { text: t("dash.enrol.title") }), el("p", { text: t("dash.enrol.intro") }), commandBlock(code)),
          el("div", { id: "tiles", class: "tiles" })),
        el("aside", { id: "feed", class: "feed", "aria-labelledby": "feed-title" },
          el("div", { class: "feed-head" },
            el("h2", { id: "feed-title", tabindex: "-1", text: t("dash.alerts.title") }),
            el("label", { class: "small" },
              el("input", { type: "checkbox", id: "show-acked", checked: state.showAcked,
                onchange: (ev) => { state.showAcked = ev.target.checked; renderFeed(); } }),
              " ", t("dash.alerts.show_acked"))),
          el("button", { type: "button", class: "btn btn-small ack-all", id: "ack-all", hidden: true, text: t("dash.alerts.ack_all"), onclick: ackAll }),
          el("ol", { id: "alert-list", class: "alert-list", "aria-live": "polite" }),
          el("details", { class: "journal" },
            el("summary", { text: t("dash.journal.title") }),
            el("ol", { id: "journal", class: "journal-list" }))))),
    el("section", { id: "tab-sheet", class: "tab-panel sheet" }),
    el("section", { id: "tab-incidents", class: "tab-panel incidents" }));
  setView("room", page);
  renderAll();
}

function selectTab(tab) {
  state.tab = tab;
  document.body.dataset.tab = tab;
  for (const id of ["live", "sheet", "incidents"]) {
    document.getElementById(`tab-${id}`).hidden = id !== tab;
    const link = document.getElementById(`tab-link-${id}`);
    link.setAttribute("aria-selected", String(id === tab));
  }
  if (tab === "incidents") {
    if (state.incidents) renderIncidents();  // show at once (edits kept), then bring in new lines
    loadIncidents();
  }
}

/* ---------- machines and tiles ---------- */

/** ready | warn | not_ready | none: the tile's colour AND its words. */
function verdict(m) {
  if (!m.report_status && !m.report_at) return "none";
  if (!m.ready) return "not_ready";
  return m.report_status === "warn" ? "warn" : "ready";
}

const VERDICT_ICON = { ready: "✔", warn: "⚠", not_ready: "✖", none: "…" };
const STATUS_ICON = { ok: "✔", warn: "⚠", fail: "✖", error: "✖", skip: "–" };

function sortedMachines() {
  const coll = new Intl.Collator(state.lang, { numeric: true, sensitivity: "base" });
  return [...state.machines.values()].sort((a, b) => coll.compare(a.hostname || "", b.hostname || ""));
}

const OS_NAMES = { windows: "Windows", linux: "Linux", macos: "macOS" };

function osText(m) {
  return [OS_NAMES[m.os] || m.os, m.os_version].filter(Boolean).join(" ");
}

function facts(m) {
  const f = m.facts || {};
  const out = [];
  const os = osText(m);
  if (os) out.push(os);
  if (f.cpu_count) out.push(t("dash.fact.cpu", { n: fmtNumber(f.cpu_count) }));
  if (f.ram_gb) out.push(t("dash.fact.ram", { gb: fmtNumber(f.ram_gb, 1) }));
  if (f.screen_px || f.screen_width) out.push(t("dash.fact.screen", { px: fmtNumber(f.screen_px || f.screen_width) }));
  return out;
}

/** What is wrong right now during the session, worst first (shown in the tile's alarm strip). */
function liveAlarms(m) {
  const out = [];
  // A lost companion's focus/network/programs are only its last word: not alarms by themselves.
  if (m.live === "lost") return [t("dash.live.alarm.lost")];
  if (m.focus === "away") out.push(m.focus_title ? t("dash.live.alarm.away_title", { title: m.focus_title }) : t("dash.live.alarm.away"));
  if (m.forbidden && m.forbidden.length) out.push(t("dash.live.alarm.forbidden", { names: m.forbidden.join(", ") }));
  if (m.net === "down") out.push(t("dash.live.alarm.net"));
  return out;
}

function liveBlock(m) {
  const rows = [];
  const live = m.live || "never";
  const liveIcon = { online: "●", lost: "✖", never: "○" }[live] || "○";
  rows.push(el("li", { class: `live-${live}`, "data-live": live },
    el("span", { class: "k", text: t("dash.live.companion") }),
    el("span", { class: "v" }, `${liveIcon} ${t(`dash.live.${live}`)}`,
      live === "lost" && m.last_seen ? el("span", { class: "muted last-seen" }, " · ", t("dash.live.last_signal"), " ",
        el("time", { "data-age": m.last_seen, datetime: m.last_seen, title: fmtDateTime(m.last_seen), text: fmtAge(m.last_seen) })) : null)));
  if (live === "lost" && (m.focus || m.net || (m.forbidden && m.forbidden.length))) {
    rows.push(el("li", { class: "stale-note", text: t("dash.live.stale") }));
  }
  if (m.focus) {
    rows.push(el("li", { class: `focus-${m.focus}`, "data-focus": m.focus },
      el("span", { class: "k", text: t("dash.live.focus") }),
      el("span", { class: "v" },
        m.focus === "exam" ? `✔ ${t("dash.live.focus_exam")}` : `⚠ ${t("dash.live.focus_away")}`,
        m.focus === "away" && m.focus_title ? el("q", { class: "win-title", text: m.focus_title }) : null,
        m.focus === "away" && awaySince(m) ? el("span", { class: "muted away-since" }, "(", el("time", { "data-age": awaySince(m), datetime: awaySince(m), text: fmtAge(awaySince(m)) }), ")") : null)));
  }
  if (m.net) {
    rows.push(el("li", { class: `net-${m.net}`, "data-net": m.net },
      el("span", { class: "k", text: t("dash.live.net") }),
      el("span", { class: "v", text: m.net === "up" ? `✔ ${t("dash.live.net_up")}` : `✖ ${t("dash.live.net_down")}` })));
  }
  if (m.forbidden && m.forbidden.length) {
    rows.push(el("li", { class: "forbidden" },
      el("span", { class: "k", text: t("dash.live.forbidden") }),
      el("span", { class: "v", text: `✖ ${m.forbidden.join(", ")}` })));
  }
  return el("ul", { class: live === "lost" ? "live stale" : "live" }, rows);
}

/** When the current absence began: the machine's latest focus_lost we know of. */
function awaySince(m) {
  let at = null;
  for (const a of state.alerts.values()) if (a.machine_id === m.machine_id && a.kind === "focus_lost" && (!at || a.at > at)) at = a.at;
  for (const e of state.events) if (e.machine_id === m.machine_id && e.kind === "focus_lost" && (!at || e.at > at)) at = e.at;
  return at;
}

/** The same live state on one line, for the compact view. */
function liveLine(m) {
  const live = m.live || "never";
  const chips = [el("span", { class: `chip live-${live}`, text: `${{ online: "●", lost: "✖", never: "○" }[live] || "○"} ${t(`dash.live.${live}`)}` })];
  if (m.focus) chips.push(el("span", { class: `chip focus-${m.focus}`, text: m.focus === "exam" ? `✔ ${t("dash.live.short.exam")}` : `⚠ ${t("dash.live.short.away")}` }));
  if (m.net) chips.push(el("span", { class: `chip net-${m.net}`, text: m.net === "up" ? `✔ ${t("dash.live.short.net_up")}` : `✖ ${t("dash.live.short.net_down")}` }));
  return el("p", { class: live === "lost" ? "live-line stale" : "live-line" }, chips);
}

function renderTile(m) {
  const v = verdict(m);
  const alarms = liveAlarms(m);
  const problems = m.problems || [];
  const id = m.machine_id;
  const details = problems.length ? el("details", { class: "problems", open: state.openDetails.has(id) || (v === "not_ready" && !state.openDetails.has("closed:" + id)) },
    el("summary", { text: t(problems.length === 1 ? "dash.tile.problems_one" : "dash.tile.problems", { n: problems.length }) }),
    el("ul", {}, problems.map((p) => el("li", { class: `problem status-${p.status}`, "data-check": p.id },
      el("div", { class: "problem-head" },
        el("span", { class: `badge status-${p.status}`, text: `${STATUS_ICON[p.status] || ""} ${t(`dash.status.${p.status}`)}` }),
        el("strong", { text: p.title || p.id })),
      p.summary ? el("p", { class: "summary", text: p.summary }) : null,
      p.remediation ? el("p", { class: "remediation" }, el("span", { class: "todo", text: t("dash.tile.todo") }), " ", p.remediation) : null)))) : null;
  if (details) {
    details.addEventListener("toggle", () => {
      if (details.open) { state.openDetails.add(id); state.openDetails.delete("closed:" + id); }
      else { state.openDetails.delete(id); state.openDetails.add("closed:" + id); }
    });
  }
  return el("article", { class: `tile verdict-${v}${alarms.length ? " alarm" : ""}`, "data-machine-id": id, "data-verdict": v, "data-hostname": m.hostname },
    el("header", { class: "tile-head" },
      el("h3", { class: "hostname", text: m.hostname || id }),
      el("span", { class: "verdict", text: `${VERDICT_ICON[v]} ${t(`dash.verdict.${v}`)}` })),
    alarms.length ? el("div", { class: "alarm-strip", role: "alert" }, el("strong", { text: t("dash.live.alarm") }), " ", alarms.join(" · ")) : null,
    liveBlock(m),
    liveLine(m),
    (m.alerts || 0) > 0 ? el("p", { class: "tile-alerts", text: `⚑ ${t(m.alerts === 1 ? "dash.tile.alerts_one" : "dash.tile.alerts", { n: m.alerts })}` }) : null,
    details,
    el("footer", { class: "tile-foot" },
      m.report_at ? el("span", {}, t("dash.tile.report"), " ", el("time", { "data-age": m.report_at, datetime: m.report_at, title: fmtDateTime(m.report_at), text: fmtAge(m.report_at) }),
        " · ", el("button", { type: "button", class: "linkish open-report", text: t("dash.tile.full_report"), onclick: () => showReport(m) }))
        : el("span", { text: t("dash.tile.no_report") }),
      el("span", { class: "facts", text: facts(m).join(" · ") })));
}

function renderTiles() {
  const box = document.getElementById("tiles");
  if (!box) return;
  const machines = sortedMachines();
  if (!machines.length) {
    box.replaceChildren(el("p", { class: "empty", text: t("dash.room.empty") }));
    return;
  }
  box.replaceChildren(...machines.map(renderTile));
}

function upsertMachine(m) {
  state.machines.set(m.machine_id, m);
  if (state.during) state.during.machines.set(m.machine_id, m);
  const box = document.getElementById("tiles");
  if (!box) return;
  const old = box.querySelector(`[data-machine-id="${CSS.escape(m.machine_id)}"]`);
  if (old && state.machines.size > 1) old.replaceWith(renderTile(m));
  else renderTiles();
  renderCounters();
  renderSheet();
}

function renderCounters() {
  const box = document.getElementById("counters");
  if (!box) return;
  const machines = [...state.machines.values()];
  const ready = machines.filter((m) => verdict(m) === "ready" || verdict(m) === "warn").length;
  const online = machines.filter((m) => m.live === "online").length;
  const open = [...state.alerts.values()].filter((a) => !a.acked_at).length;
  const counter = (id, key, value, cls) => el("div", { class: `counter ${cls}`, id },
    el("span", { class: "counter-value", text: value }), el("span", { class: "counter-label", text: t(key) }));
  // The tab's title shows the open alerts, for a supervisor who has another tab in front.
  document.title = `${open ? `(${open}) ` : ""}${state.room.name} – examroom`;
  box.replaceChildren(
    counter("counter-ready", "dash.counter.ready", `${ready}/${machines.length}`, ready === machines.length && machines.length ? "good" : "bad"),
    counter("counter-alerts", open === 1 ? "dash.counter.alerts_one" : "dash.counter.alerts", String(open), open ? "bad" : "good"),
    counter("counter-online", "dash.counter.online", `${online}/${machines.length}`, ""));
}

/* ---------- a machine's full report ---------- */

function itemText(item) {
  if (item.url) {
    // whitelist items: where it failed and why
    const reasonKey = `dash.reason.${item.reason}`;
    const reason = Object.prototype.hasOwnProperty.call(state.texts, reasonKey) ? t(reasonKey) : item.reason;
    const extra = [item.reason && item.reason !== "ok" ? reason : null,
      item.http_status ? `HTTP ${item.http_status}` : null,
      item.latency_ms != null ? `${fmtNumber(item.latency_ms)} ms` : null].filter(Boolean).join(", ");
    return extra ? `${item.url} (${extra})` : item.url;
  }
  return [item.name, item.version, item.detail ? `– ${item.detail}` : null].filter(Boolean).join(" ");
}

async function showReport(m) {
  let report;
  try {
    report = await api(`/rooms/${encodeURIComponent(state.room.code)}/machines/${encodeURIComponent(m.machine_id)}/report`);
  } catch (e) {
    if (e.status !== 401) showBanner(e.message);
    return;
  }
  const machine = report.machine || {};
  const v = verdict(m);
  const order = { fail: 0, error: 1, warn: 2, ok: 3, skip: 4 };
  const checks = [...(report.checks || [])].sort((a, b) => (order[a.status] ?? 5) - (order[b.status] ?? 5));
  const close = el("button", { type: "button", class: "btn", id: "report-close", text: t("dash.action.close") });
  const dialog = el("dialog", { id: "report-dialog", class: "report-dialog", "aria-labelledby": "report-title" },
    el("header", { class: "dialog-head" },
      el("h2", { id: "report-title", text: t("dash.report.title", { host: machine.hostname || m.hostname }) }),
      close),
    el("p", { class: `verdict-line verdict-${v}`, text: `${VERDICT_ICON[v]} ${t(`dash.verdict.${v}`)}` }),
    el("p", { class: "muted", text: [t("dash.report.when", { date: fmtDateTime(report.finished_at) }),
      osText({ os: machine.os, os_version: machine.os_version }), machine.arch, ...facts({ facts: machine }),
      report.agent_version ? `examroom ${report.agent_version}` : null].filter(Boolean).join(" · ") }),
    el("table", { class: "table report-table" },
      el("thead", {}, el("tr", {}, ["dash.report.col.check", "dash.report.col.status", "dash.report.col.result"].map((k) => el("th", { text: t(k) })))),
      el("tbody", {}, checks.map((c) => el("tr", { class: `status-${c.status}`, "data-check": c.id },
        el("td", {}, el("strong", { text: c.title || c.id })),
        el("td", {}, el("span", { class: `badge status-${c.status}`, text: `${STATUS_ICON[c.status] || ""} ${t(`dash.status.${c.status}`)}` })),
        el("td", {},
          el("div", { text: c.summary || "" }),
          c.measured != null ? el("div", { class: "muted", text: t("dash.report.measured", { value: fmtNumber(c.measured, 1), threshold: c.threshold != null ? fmtNumber(c.threshold, 1) : "–", unit: c.unit || "" }) }) : null,
          c.remediation && c.status !== "ok" ? el("div", { class: "remediation" }, el("span", { class: "todo", text: t("dash.tile.todo") }), " ", c.remediation) : null,
          (c.items || []).length ? el("details", {}, el("summary", { text: t("dash.report.items", { n: c.items.length }) }),
            el("ul", { class: "items" }, c.items.map((i) => el("li", { class: `status-${i.status || "ok"}` }, `${STATUS_ICON[i.status] || ""} `, itemText(i))))) : null))))));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  document.getElementById("report-dialog")?.remove();
  document.body.append(dialog);
  dialog.showModal();
}

/* ---------- alerts ---------- */

/** "45 s", "3 min 05 s", "1 h 02 min": how long an absence or an outage lasted. */
function fmtDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds)));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** One line describing an alert or event, from its details (shape set by the companion). */
function detailText(kind, d) {
  d = d || {};
  const title = d.title ?? d.window_title;
  const proc = d.process ?? d.process_name ?? d.name ?? d.exe;
  switch (kind) {
    case "focus_lost": return [title ? `« ${title} »` : null, proc ? `(${proc})` : null].filter(Boolean).join(" ");
    case "focus_regained": return d.away_s != null ? t("dash.detail.away_for", { duration: fmtDuration(d.away_s) }) : "";
    case "forbidden_process": {
      const what = d.program && d.name && d.name !== d.program ? `${d.program} (${d.name})` : (d.program || proc || "");
      return d.state === "stopped" && d.duration_s != null
        ? `${what} – ${t("dash.detail.ran_for", { duration: fmtDuration(d.duration_s) })}` : String(what);
    }
    case "net_down": return [d.url, d.error].filter(Boolean).join(" – ");
    case "net_up": {
      const down = d.down_s ?? d.duration_s;
      return down != null ? t("dash.detail.outage", { duration: fmtDuration(down) }) : "";
    }
    case "companion_lost": return d.last_seen ? t("dash.detail.last_seen", { time: fmtTime(d.last_seen) }) : "";
    default: return "";
  }
}

function kindLabel(kind, details) {
  const key = kind === "forbidden_process" && (details || {}).state === "stopped"
    ? "dash.kind.forbidden_process_ended" : `dash.kind.${kind}`;
  return Object.prototype.hasOwnProperty.call(state.texts, key) ? t(key) : kind;
}

function addAlert(a) {
  if (state.during && !state.during.alerts.has(a.id)) state.during.alerts.set(a.id, a);
  const known = state.alerts.get(a.id);
  state.alerts.set(a.id, Object.assign({}, known || {}, a));
}

function renderFeed() {
  const list = document.getElementById("alert-list");
  if (!list) return;
  const all = [...state.alerts.values()].sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0) || String(b.at).localeCompare(String(a.at)));
  const shown = all.filter((a) => state.showAcked || !a.acked_at);
  document.getElementById("ack-all").hidden = all.filter((a) => !a.acked_at).length < 2;
  if (!shown.length) {
    list.replaceChildren(el("li", { class: "empty", text: t("dash.alerts.none") }));
  } else {
    list.replaceChildren(...shown.map((a) => el("li", { class: `alert kind-${a.kind} ${a.acked_at ? "acked" : "open"}`, "data-alert-id": a.id, "data-kind": a.kind },
      el("div", { class: "alert-head" },
        el("strong", { class: "alert-kind", text: `${a.acked_at ? "✔" : "⚠"} ${kindLabel(a.kind, a.details)}` }),
        el("time", { datetime: a.at, text: fmtTime(a.at) })),
      el("div", { class: "alert-host", text: a.hostname || a.machine_id }),
      detailText(a.kind, a.details) ? el("div", { class: "alert-detail", text: detailText(a.kind, a.details) }) : null,
      a.acked_at
        ? el("div", { class: "acked-by", text: t("dash.alerts.acked_by", { time: fmtTime(a.acked_at), who: a.acked_by || "" }) })
        : el("button", { type: "button", class: "btn btn-small ack", text: t("dash.alerts.ack"), onclick: () => ack(a.id) }))));
  }
  renderCounters();
}

/** After a network blip every companion may be "lost" at once: one click for all of them. */
async function ackAll() {
  const open = [...state.alerts.values()].filter((a) => !a.acked_at);
  if (!open.length || !window.confirm(t("dash.alerts.ack_all_confirm", { n: open.length }))) return;
  for (const a of open) await ack(a.id);
}

async function ack(id) {
  // Keyboard users keep their place: focus goes to the next alert's button, else the heading.
  const li = document.querySelector(`.alert[data-alert-id="${CSS.escape(id)}"]`);
  const hadFocus = li && li.contains(document.activeElement);
  const next = li && li.nextElementSibling && li.nextElementSibling.dataset.alertId;
  try {
    const res = await api(`/rooms/${encodeURIComponent(state.room.code)}/alerts/${encodeURIComponent(id)}/ack`, { method: "POST" });
    onAck(res);
  } catch (e) { if (e.status !== 401) showBanner(e.message); return; }
  if (hadFocus) {
    const target = next && document.querySelector(`.alert[data-alert-id="${CSS.escape(next)}"] button.ack`);
    (target || document.getElementById("feed-title")).focus();
  }
}

function onAck(res) {
  if (state.during) state.during.acks.push(res);
  const a = state.alerts.get(res.id);
  if (a) { a.acked_at = res.acked_at; a.acked_by = res.acked_by; }
  renderFeed();
}

/** Keeps the newest events for the journal; a replay after a reconnection is not doubled. */
function remember(ev) {
  if (typeof ev.seq === "number") {
    if (state.events.some((e) => e.seq === ev.seq)) return false;
    state.lastSeq = Math.max(state.lastSeq || 0, ev.seq);
  }
  state.events.push(ev);
  state.events.sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0));
  if (state.events.length > 100) state.events.length = 100;
  return true;
}

function onEvent(ev) {
  if (!remember(ev)) return;
  if (ev.alert) addAlert({ id: ev.id, seq: ev.seq, kind: ev.kind, at: ev.at, machine_id: ev.machine_id, hostname: ev.hostname, details: ev.details, acked_at: ev.acked_at || null, acked_by: ev.acked_by || null });
  // The server follows with a machine row; this makes the tile react at once meanwhile.
  const m = state.machines.get(ev.machine_id);
  if (m && (ev.kind === "focus_lost" || ev.kind === "focus_regained")) {
    const away = ev.kind === "focus_lost";
    upsertMachine(Object.assign({}, m, { focus: away ? "away" : "exam", focus_title: away ? ((ev.details || {}).title ?? null) : null }));
  }
  renderFeed();
  renderJournal();
}

function renderJournal() {
  const list = document.getElementById("journal");
  if (!list) return;
  list.replaceChildren(...state.events.slice(0, 50).map((e) => el("li", {},
    el("time", { datetime: e.at, text: fmtTime(e.at) }), " ",
    el("strong", { text: e.hostname || e.machine_id }), " — ", kindLabel(e.kind, e.details),
    detailText(e.kind, e.details) ? ` ${detailText(e.kind, e.details)}` : "")));
}

/* ---------- printable readiness sheet and incident report draft ---------- */

function renderSheet() {
  const box = document.getElementById("tab-sheet");
  if (!box) return;
  const machines = sortedMachines();
  const ready = machines.filter((m) => verdict(m) === "ready" || verdict(m) === "warn").length;
  box.replaceChildren(
    el("div", { class: "sheet-head" },
      el("h2", { text: t("dash.sheet.title", { name: state.room.name }) }),
      el("p", {}, t("dash.sheet.code", { code: state.room.code }), " · ",
        t("dash.sheet.printed", { date: fmtDateTime(new Date().toISOString()) }), " · ",
        t("dash.counter.ready_value", { ready, total: machines.length })),
      el("button", { type: "button", class: "btn btn-primary no-print", id: "print-sheet", text: t("dash.action.print"), onclick: () => { selectTab("sheet"); window.print(); } })),
    el("table", { class: "table sheet-table" },
      el("thead", {}, el("tr", {}, ["dash.sheet.col.host", "dash.sheet.col.os", "dash.sheet.col.verdict", "dash.sheet.col.todo", "dash.sheet.col.report"].map((k) => el("th", { text: t(k) })))),
      el("tbody", {}, machines.map((m) => {
        const v = verdict(m);
        return el("tr", { class: `verdict-${v}`, "data-machine-id": m.machine_id },
          el("td", { class: "host", text: m.hostname }),
          el("td", { text: osText(m) }),
          el("td", { class: "verdict-cell", text: `${VERDICT_ICON[v]} ${t(`dash.verdict.${v}`)}` }),
          el("td", {}, (m.problems || []).length
            ? el("ul", {}, m.problems.map((p) => el("li", {}, el("strong", { text: t("dash.sheet.item", { title: p.title || p.id }) }), " ", p.remediation || p.summary || "")))
            : (v === "none" ? t("dash.sheet.run_check") : "—")),
          el("td", { text: fmtDateTime(m.report_at) }));
      }))),
    el("div", { class: "signatures" },
      el("p", { text: t("dash.sheet.sign_tech") }), el("p", { text: t("dash.sheet.sign_date") })));
}

/* The PV draft: the server's lines plus the supervisor's edits and added lines, kept in
   localStorage per room so that a reload or a refresh loses nothing typed. */
function pvStore(code) {
  try { return JSON.parse(localStorage.getItem(`examroom.pv.${code}`)) || { edits: {}, extra: [] }; }
  catch (_) { return { edits: {}, extra: [] }; }
}

function pvSave(code, store) { localStorage.setItem(`examroom.pv.${code}`, JSON.stringify(store)); }

async function loadIncidents() {
  const box = document.getElementById("tab-incidents");
  const code = state.room.code;
  if (!state.incidents) box.replaceChildren(el("p", { class: "muted", text: t("dash.loading") }));
  try {
    state.incidents = await api(`/rooms/${encodeURIComponent(code)}/incidents?lang=${state.lang}&format=json`);
  } catch (e) {
    if (e.status !== 401) box.replaceChildren(el("p", { class: "form-error", text: e.message }));
    return;
  }
  renderIncidents();
}

function renderIncidents() {
  const box = document.getElementById("tab-incidents");
  const code = state.room.code;
  const store = pvStore(code);
  const rows = state.incidents.map((r) => Object.assign({ key: `${r.at}|${r.machine_id}|${r.kind}` }, r, store.edits[`${r.at}|${r.machine_id}|${r.kind}`] || {}));
  const all = [...rows, ...store.extra.map((r) => Object.assign({ manual: true }, r))];
  const cell = (r, field, cls) => el("td", { class: cls, contenteditable: "true", "data-field": field, text: r[field] || "" });
  const tbody = el("tbody", {}, all.map((r) => el("tr", { "data-key": r.key, "data-code": r.code, class: r.manual ? "manual" : "" },
    r.manual ? cell(r, "time") : el("td", { text: fmtTime(r.at) }),
    r.manual ? cell(r, "hostname") : el("td", { text: r.hostname || r.machine_id }),
    cell(r, "code", "pv-code"), cell(r, "label"), cell(r, "details_text"),
    el("td", { class: "no-print" }, r.manual ? el("button", { type: "button", class: "btn btn-small", text: t("dash.pv.remove"), onclick: () => {
      store.extra = store.extra.filter((x) => x.key !== r.key);
      pvSave(code, store);
      renderIncidents();
    } }) : null))));
  tbody.addEventListener("input", (ev) => {
    const tr = ev.target.closest("tr");
    const field = ev.target.dataset.field;
    if (!tr || !field) return;
    const value = ev.target.textContent;
    const extra = store.extra.find((x) => x.key === tr.dataset.key);
    if (extra) extra[field] = value;
    else (store.edits[tr.dataset.key] = store.edits[tr.dataset.key] || {})[field] = value;
    pvSave(code, store);
  });
  const add = () => {
    store.extra.push({ key: `manual-${Date.now()}`, time: fmtTime(new Date().toISOString()), hostname: "", code: "", label: "", details_text: "" });
    pvSave(code, store);
    renderIncidents();
  };
  box.replaceChildren(
    el("div", { class: "sheet-head" },
      el("h2", { text: t("dash.pv.title", { name: state.room.name }) }),
      el("p", {}, t("dash.sheet.code", { code }), " · ", t("dash.sheet.printed", { date: fmtDateTime(new Date().toISOString()) })),
      el("p", { class: "muted no-print", text: t("dash.pv.intro") }),
      el("div", { class: "no-print inline" },
        el("button", { type: "button", class: "btn btn-primary", id: "print-pv", text: t("dash.action.print"), onclick: () => window.print() }),
        el("button", { type: "button", class: "btn", id: "pv-csv", text: t("dash.action.export_csv"), onclick: () => pvCsv(code) }),
        el("button", { type: "button", class: "btn", id: "pv-add", text: t("dash.pv.add"), onclick: add }),
        el("button", { type: "button", class: "btn", id: "pv-refresh", text: t("dash.action.refresh"), onclick: loadIncidents }))),
    all.length ? el("table", { class: "table pv-table", id: "pv-table" },
      el("thead", {}, el("tr", {}, ["dash.pv.col.time", "dash.pv.col.host", "dash.pv.col.code", "dash.pv.col.label", "dash.pv.col.details"].map((k) => el("th", { text: t(k) })), el("th", { class: "no-print" }))),
      tbody)
      : el("p", { class: "empty", text: t("dash.pv.none") }),
    el("div", { class: "signatures" },
      el("p", { text: t("dash.pv.sign") }), el("p", { text: t("dash.sheet.sign_date") })));
}

/** The draft as edited, as CSV (BOM and ';' in French, like the server's exports). */
function pvCsv(code) {
  const sep = state.lang === "fr" ? ";" : ",";
  const quote = (v) => `"${String(v ?? "").replace(/"/g, '""')}"`;
  const lines = [["dash.pv.col.time", "dash.pv.col.host", "dash.pv.col.code", "dash.pv.col.label", "dash.pv.col.details"].map((k) => quote(t(k))).join(sep)];
  for (const tr of document.querySelectorAll("#pv-table tbody tr")) {
    lines.push([...tr.cells].slice(0, 5).map((td) => quote(td.textContent.trim())).join(sep));
  }
  const blob = new Blob([(state.lang === "fr" ? "\ufeff" : "") + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
  saveBlob(blob, `examroom-${code}-pv.csv`);
}

function renderAll() {
  renderTiles();
  renderCounters();
  renderFeed();
  renderJournal();
  renderSheet();
}

/* ---------- live updates (Server-Sent Events) ---------- */

async function refresh() {
  const room = state.room.code;
  const code = encodeURIComponent(room);
  // What the stream brings while the snapshot is on its way is newer than the snapshot.
  const during = { machines: new Map(), alerts: new Map(), acks: [] };
  state.during = during;
  try {
    const [machines, open, closed] = await Promise.all([
      api(`/rooms/${code}/machines`),
      api(`/rooms/${code}/alerts?open=true`),
      api(`/rooms/${code}/alerts?open=false`).catch(() => []),
    ]);
    if (!state.room || state.room.code !== room) return;  // another room was opened meanwhile
    state.machines = new Map(machines.map((m) => [m.machine_id, m]));
    for (const [id, m] of during.machines) state.machines.set(id, m);
    state.alerts = new Map();
    for (const a of [...closed, ...open, ...during.alerts.values()]) addAlert(a);
    for (const res of during.acks) {
      const a = state.alerts.get(res.id);
      if (a) { a.acked_at = res.acked_at; a.acked_by = res.acked_by; }
    }
    // The journal: events missed while the stream was down (or all, the first time).
    for (let page = 0; page < 20; page++) {
      const batch = await api(`/rooms/${code}/events?after=${state.lastSeq || 0}&limit=1000`);
      if (!state.room || state.room.code !== room) return;
      for (const ev of batch) remember(ev);
      if (batch.length < 1000) break;
    }
    renderAll();
  } catch (e) {
    if (!state.room || state.room.code !== room) return;
    if (e.status === 404) showBanner(t("dash.room.unknown", { code: room }));
    else if (e.status !== 401) showBanner(e.message);
  } finally {
    if (state.during === during) state.during = null;
  }
}

function startLive() {
  stopLive();
  const url = `${API}/rooms/${encodeURIComponent(state.room.code)}/stream?token=${encodeURIComponent(state.token)}`;
  const es = new EventSource(url);
  state.es = es;
  let first = true;
  // If the stream is slow to open, show the room anyway; onopen refreshes again.
  state.timers.push(setTimeout(() => { if (first) refresh(); }, 2000));
  es.onopen = () => {
    // Anything may have changed while disconnected: reload the full state once per (re)connection.
    first = false;
    state.liveOk = true;
    hideBanner();
    document.body.dataset.live = "on";
    refresh();
  };
  es.onerror = () => {
    if (state.es !== es) return;
    state.liveOk = false;
    document.body.dataset.live = "off";
    showBanner(t("dash.live.reconnecting"));
    // EventSource gives up on an HTTP error (e.g. 401): find out why, and retry by hand.
    if (es.readyState === EventSource.CLOSED) {
      const retry = () => state.timers.push(setTimeout(() => { if (state.es === es) startLive(); }, 3000));
      api(`/rooms/${encodeURIComponent(state.room.code)}/machines`).then(retry).catch((e) => {
        if (state.es !== es) return;  // the supervisor already opened another room
        if (e.status === 404) { stopLive(); showBanner(t("dash.room.unknown", { code: state.room.code })); }
        else if (e.status !== 401) retry();
      });
    }
  };
  es.addEventListener("machine", (e) => upsertMachine(JSON.parse(e.data)));
  es.addEventListener("event", (e) => onEvent(JSON.parse(e.data)));
  es.addEventListener("ack", (e) => onAck(JSON.parse(e.data)));
}

function stopLive() {
  if (state.es) { state.es.close(); state.es = null; }
  for (const timer of state.timers) clearTimeout(timer);
  state.timers = [];
  clearTimeout(state.roomsTimer);
  document.body.dataset.live = "off";
}

/* ---------- start ---------- */

function tickAges() {
  for (const node of document.querySelectorAll("time[data-age]")) node.textContent = fmtAge(node.dataset.age);
}

async function setLang(lang) {
  localStorage.setItem(LANG_KEY, lang);
  await loadTexts(lang);
  translateStatic();
  if (document.getElementById("room") && state.room) {
    const tab = state.tab;
    buildRoomPage();
    selectTab(tab);
    const name = document.getElementById("room-name");
    name.textContent = state.room.name;
  } else {
    route();
  }
}

async function main() {
  document.body.classList.toggle("compact", localStorage.getItem("examroom.compact") === "1");
  await loadTexts(state.lang);
  for (const b of document.querySelectorAll("button.lang")) b.addEventListener("click", () => setLang(b.dataset.lang));
  document.getElementById("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    stopLive();
    state.room = null;
    location.hash = "#/login";
  });
  window.addEventListener("hashchange", route);
  setInterval(tickAges, 5000);
  route();
}

main();
