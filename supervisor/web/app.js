/* examroom dashboard (vanilla JS, no build step).
 *
 * Reads: the supervisor API under /api/v1 (rooms, machines, alerts, incidents, CSV export),
 * its Server-Sent Events stream for live updates, and the dashboard texts from
 * /api/v1/i18n/{lang} (core/i18n/dashboard.toml). The supervisor token lives in
 * sessionStorage, so closing the tab logs out.
 *
 * Every server-provided string goes through textContent (el() below), never innerHTML:
 * host names, window titles and process names come from candidates' machines.
 *
 * Files (classic scripts sharing one global scope, loaded by index.html in this order):
 * room.js (room page, tiles, report dialog), feed.js (alerts, journal, live stream),
 * sheets.js (printable readiness sheet, PV d'incident draft), then app.js (this file:
 * state, texts and formats, DOM and API helpers, routing, login, rooms, start).
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

// Every script of the page has run by then (they are at the end of <body>).
document.addEventListener("DOMContentLoaded", main);
