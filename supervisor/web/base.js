/* examroom dashboard: what every view uses - the one state object, the texts and formats,
 * DOM helpers (text only, never HTML) and the API client. Imports no other module of the page.
 *
 * Every server-provided string goes through textContent (el() below), never innerHTML:
 * host names, window titles and process names come from candidates' machines.
 */
export const API = "/api/v1";
export const TOKEN_KEY = "examroom.token";
export const LANG_KEY = "examroom.lang";

export const state = {
  lang: initialLang(),
  texts: {},
  token: sessionStorage.getItem(TOKEN_KEY),
  room: null,          // {code, name, ...}
  tab: "live",
  machines: new Map(), // machine_id -> row of /machines
  alerts: new Map(),   // event id -> the latest alert of each group shown (alerts.js)
  alertGroups: null,   // alerts.js: groups shown, the next page's cursor, groups expanded
  events: [],          // recent events (newest first), for the journal
  es: null,
  liveOk: false,
  openDetails: new Set(),
  showAcked: false,
  incidents: null,
  timers: [],
  tls: null,           // GET /tls: the server's own certificate, if it runs on one
};

/* ---------- machine names ---------- */

/* What a person reads for a machine: its host name, followed by the shortest start (at least 4
 * characters) of its id that tells it apart when other machines of the room share that name
 * (cloned lab images: "vm · 3f2a", "vm · 9c01"). The same rule as core/machines.py (room
 * summary, CSV); computed here from the whole room, so a tile renamed by a newcomer's arrival
 * reads right at once. */
export function machineName(id, hostname) {
  const known = state.machines.get(id);
  const host = ((known && known.hostname) || hostname || "").trim() || id;
  const twins = [...state.machines.values()]
    .filter((m) => ((m.hostname || "").trim() || m.machine_id).toLowerCase() === host.toLowerCase())
    .map((m) => m.machine_id);
  if (!twins.includes(id)) twins.push(id);
  if (twins.length < 2) return host;
  const longest = Math.max(...twins.map((m) => m.length));
  for (let size = 4; size <= longest; size++) {
    if (new Set(twins.map((m) => m.slice(0, size))).size === twins.length) return `${host} · ${id.slice(0, size)}`;
  }
  return `${host} · ${id}`;
}

/* ---------- language and formatting ---------- */

export function initialLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === "fr" || saved === "en") return saved;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "fr";
  return nav.toLowerCase().startsWith("fr") ? "fr" : "en";
}

export async function loadTexts(lang) {
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
export function t(key, fields) {
  let text = Object.prototype.hasOwnProperty.call(state.texts, key) ? state.texts[key] : key;
  if (fields) text = text.replace(/\{(\w+)\}/g, (m, k) => (k in fields ? String(fields[k]) : m));
  return text;
}

export function parseDate(value) {
  if (!value) return null;
  const d = new Date(value);
  return isNaN(d.getTime()) ? null : d;
}

export function fmtDateTime(value) {
  const d = parseDate(value);
  return d ? new Intl.DateTimeFormat(state.lang, { dateStyle: "medium", timeStyle: "short" }).format(d) : "";
}

export function fmtTime(value) {
  const d = parseDate(value);
  return d ? new Intl.DateTimeFormat(state.lang, { timeStyle: "medium" }).format(d) : "";
}

export function fmtNumber(value, digits = 0) {
  return new Intl.NumberFormat(state.lang, { maximumFractionDigits: digits }).format(value);
}

/** "il y a 3 min" / "3 min ago", from an ISO date. */
export function fmtAge(value) {
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

/* Bidi controls (U+202A-202E, U+2066-2069, LRM/RLM/ALM) and other invisible characters
 * (zero-width, word joiners, BOM, control codes) a candidate's machine may put in a host name
 * ("PC-07 \u202eYDAER\u202c" would read "PC-07 READY"): shown escaped, never obeyed. */
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g;

export function visible(text) {
  return String(text).replace(INVISIBLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** map[key] only for the map's own keys: "toString" or "constructor" from a machine is not a lookup hit. */
export function own(map, key) {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = visible(v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(visible(c)));
  }
  return node;
}

export function view() { return document.getElementById("view"); }

export function setView(name, ...nodes) {
  document.body.dataset.view = name;
  view().replaceChildren(...nodes);
}

export function translateStatic() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const b of document.querySelectorAll("button.lang")) b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
  document.getElementById("logout").hidden = !state.token;
  document.querySelector(".topnav").hidden = !state.token;
}

export function showBanner(text) {
  const b = document.getElementById("banner");
  b.textContent = text;
  b.hidden = false;
}

export function hideBanner() { document.getElementById("banner").hidden = true; }

/* ---------- API ---------- */

export class ApiError extends Error {
  constructor(status, message, detail, code) { super(message); this.status = status; this.detail = detail; this.code = code; }
}

export async function api(path, opts = {}) {
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
    throw new ApiError(res.status, (data && data.error) || res.statusText, data && data.detail, data && data.code);
  }
  return opts.raw ? res : res.json();
}

/** Downloads an authenticated file: a plain link cannot carry the Authorization header. */
export async function download(path, filename) {
  const res = await api(path, { raw: true });
  saveBlob(await res.blob(), filename);
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}


/** The token was refused: forget it and tell the page (app.js routes to the login). */
function expire() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.expired = true;
  // After logging in again, the supervisor lands back on the page they were watching.
  const here = location.hash.replace(/^#/, "");
  if (here && here !== "/login") state.afterLogin = here;
  window.dispatchEvent(new Event("examroom:expired"));
}

/* ---------- enrolment commands (rooms list and room page) ---------- */

function enrolCommands(code) {
  const server = location.origin;
  // On the server's own certificate (serve --self-signed) machines trust exactly that file.
  const ca = state.tls && state.tls.self_signed ? ` --ca-file ${state.tls.filename}` : "";
  return [
    { label: t("dash.enrol.check"), cmd: `examroom check --server ${server} --room ${code}${ca}` },
    { label: t("dash.enrol.companion"), cmd: `examroom companion --server ${server} --room ${code}${ca}` },
  ];
}

/** The server's own certificate, for the enrolment commands (GET /tls: public, read once). */
export async function loadTls() {
  try {
    const res = await fetch(`${API}/tls`);
    state.tls = res.ok ? await res.json() : null;
  } catch (_) {
    state.tls = null;
  }
}

function certificateNote() {
  if (!state.tls || !state.tls.self_signed) return null;
  return el("p", { class: "muted cert-note" },
    el("a", { href: `${API}/tls/certificate`, download: state.tls.filename, class: "cert-download",
      text: t("dash.enrol.certificate") }),
    " · " + t("dash.enrol.fingerprint") + " ",
    el("code", { class: "fingerprint", text: state.tls.fingerprint }));
}

export function commandBlock(code) {
  const note = certificateNote();
  return el("div", { class: "commands" }, ...(note ? [note] : []), enrolCommands(code).map(({ label, cmd }) =>
    el("div", { class: "command" },
      el("span", { class: "command-label", text: label }),
      el("code", { class: "cmd", text: cmd }),
      el("button", { type: "button", class: "btn btn-small no-print", text: t("dash.action.copy"),
        onclick: (ev) => { navigator.clipboard && navigator.clipboard.writeText(cmd); ev.target.textContent = t("dash.action.copied"); } }))));
}
