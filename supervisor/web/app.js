/* examroom dashboard (ES modules, no build step): the entry point. The page's views are ONE
 * table (VIEWS below): each view's route, and for the room's tabs their label, their panel and
 * what showing them does; route() matches the hash against it, and the room page builds its
 * tab bar and panels from it. A new view is one entry here (plus its texts in dashboard.toml).
 *
 * Reads: the supervisor API under /api/v1 (rooms, machines, alerts, incidents, CSV export),
 * its Server-Sent Events stream for live updates, and the dashboard texts from
 * /api/v1/i18n/{lang} (core/i18n/dashboard.toml). The supervisor token lives in
 * sessionStorage, so closing the tab logs out.
 *
 * Modules (each imports what it uses, nothing is shared through globals): base.js (state,
 * texts and formats, DOM and API helpers), room.js (tiles, counters, report dialog), feed.js
 * (alerts, journal, live stream), sheets.js (printable readiness sheet), pv.js (PV d'incident
 * draft), accounts.js (who is logged in, the admin's accounts panel), machines.js (revoking and
 * removing a machine from its tile), confirm.js (in-page confirmations), and this file (views,
 * routing, login, rooms list, room page, start).
 */
import {
  LANG_KEY, TOKEN_KEY, api, commandBlock, download, el, fmtAge, fmtDateTime, hideBanner, loadTexts, loadTls,
  setView, showBanner, state, t, translateStatic,
} from "./base.js";
import { ackAll, reloadFeed, renderAll, startLive, stopLive } from "./feed.js";
import { loadIncidents, renderIncidents } from "./pv.js";
import { renderCounters } from "./room.js";
import { renderSheet } from "./sheets.js";
import { bandwidthButton, bandwidthPanel } from "./bandwidth.js";
import { forgetMe, loadMe, showAccounts } from "./accounts.js";
import { roomAdminButton, roomAdminPanel } from "./roomadmin.js";

/* ---------- the views ---------- */

const VIEWS = [
  { name: "login", path: "/login", public: true, show: () => showLogin() },
  { name: "rooms", path: "/rooms", show: () => showRooms() },
  { name: "accounts", path: "/accounts", show: () => showAccounts() },  // admin only (accounts.js)
  // The room's tabs, in the order of the tab bar; "/room/CODE" alone opens the first one.
  { name: "live", path: "/room/:code/live", also: ["/room/:code"], label: "dash.tab.live", build: livePanel },
  { name: "sheet", path: "/room/:code/sheet", label: "dash.tab.sheet", panel: "sheet" },
  { name: "incidents", path: "/room/:code/incidents", label: "dash.tab.incidents", panel: "incidents",
    // shown at once (edits kept), then the new lines are brought in
    shown: () => { if (state.incidents) renderIncidents(); loadIncidents(); } },
];
const ROOM_TABS = VIEWS.filter((v) => v.label);
for (const v of ROOM_TABS) v.show = (params) => showRoom(params, v.name);

/** "/room/:code" against "/room/B12" gives {code: "B12"}; null when it does not match. */
function matchPath(pattern, path) {
  const names = [];
  const source = pattern.split("/").map((part) => {
    if (part.startsWith(":")) { names.push(part.slice(1)); return "([^/]+)"; }
    return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }).join("/");
  const m = path.match(new RegExp(`^${source}$`));
  if (!m) return null;
  try {
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(m[i + 1])]));
  } catch (_) {
    return null;  // a malformed %-escape: not a route
  }
}

/** The address of a view, its parameters filled in (links and tabs). */
function fill(pattern, params) {
  return pattern.split("/").map((part) => (part.startsWith(":") ? encodeURIComponent(params[part.slice(1)]) : part)).join("/");
}

function findView(path) {
  for (const v of VIEWS) {
    for (const pattern of [v.path, ...(v.also || [])]) {
      const params = matchPath(pattern, path);
      if (params) return { view: v, params };
    }
  }
  return null;
}

/* ---------- routing ---------- */

async function route() {
  translateStatic();
  const hash = location.hash.replace(/^#/, "") || "/rooms";
  if (!state.token) { forgetMe(); if (hash !== "/login") state.afterLogin = hash; return showLogin(); }
  // Who is logged in, once per token: the page shows what the role allows (the server decides).
  if (!state.me || state.me.token !== state.token) {
    await loadMe();
    // expired meanwhile (base.js routes to the login), or the supervisor moved on: that route runs
    if (!state.token || (location.hash.replace(/^#/, "") || "/rooms") !== hash) return;
  }
  const found = findView(hash);
  if (found && found.view.public) { location.hash = "#/rooms"; return; }
  if (!found) { stopLive(); return showRooms(); }  // an unknown address shows the rooms
  if (!found.view.label) stopLive();  // out of the room: its stream closes
  return found.view.show(found.params);
}

/* ---------- login ---------- */

function showLogin() {
  stopLive();
  hideBanner();
  const error = el("p", { class: "form-error", role: "alert", id: "login-error" });
  // Kept until the next login succeeds: several requests refused at once each route back here
  // (one through hashchange, one directly), and the last rendering must still say why.
  if (state.expired) error.textContent = t("dash.login.expired");
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
      // The device token an earlier login of this account gave this browser: with it, someone
      // else's failed guesses on the same school address cannot lock this browser out.
      const deviceKey = "examroom.device." + user.value.trim().toLowerCase();
      const device = localStorage.getItem(deviceKey);
      const res = await api("/login", { method: "POST", json: { username: user.value, password: pass.value, ...(device ? { device } : {}) }, login: true });
      if (res.device) localStorage.setItem(deviceKey, res.device);
      state.token = res.token;
      state.expired = false;
      sessionStorage.setItem(TOKEN_KEY, res.token);
      forgetMe();
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
      el("a", { class: "btn btn-primary", href: "#" + fill("/room/:code", { code: created.code }), text: t("dash.rooms.open") })));
  }
  form.hidden = !!state.me && state.me.role !== "admin";  // creating rooms is the admin's (supervisor/accounts.py)
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
        el("td", {}, el("a", { href: "#" + fill("/room/:code", { code: r.code }), text: r.name })),
        el("td", {}, el("code", { text: r.code })),
        el("td", { text: `${r.ready ?? 0}/${r.machines ?? 0}` }),
        el("td", { class: (r.alerts || 0) > 0 ? "alarm-text" : "", text: String(r.alerts ?? 0) }),
        el("td", { text: fmtDateTime(r.created_at) }))))));
  } catch (e) {
    if (e.status !== 401) list.replaceChildren(el("p", { class: "form-error", text: e.message }));
  }
}


/* ---------- the room page (its tabs are the room's entries of VIEWS) ---------- */

async function showRoom({ code }, tab) {
  if (!state.room || state.room.code !== code || !document.getElementById("room")) {
    stopLive();
    hideBanner();
    state.room = { code, name: code };
    state.machines = new Map();
    state.alerts = new Map();
    state.alertGroups = null;  // alerts.js: the groups and pages of this room
    state.events = [];
    state.lastSeq = 0;
    state.incidents = null;
    state.timeline = null;
    if (state.pv) clearTimeout(state.pv.timer);
    state.pv = null;
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
  const page = el("div", { id: "room" },
    el("section", { class: "room-head" },
      el("div", { class: "room-title" },
        el("h1", { id: "room-name", text: state.room.name }),
        el("span", { class: "room-code" }, t("dash.room.code"), " ", el("strong", { text: code }))),
      el("div", { class: "counters", id: "counters", "aria-live": "polite" })),
    el("div", { class: "tabbar no-print" },
      el("nav", { class: "tabs", role: "tablist" }, ROOM_TABS.map((v) =>
        el("a", { role: "tab", id: `tab-link-${v.name}`, "aria-controls": `tab-${v.name}`, "data-tab": v.name, href: "#" + fill(v.path, { code }), text: t(v.label) }))),
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
          onclick: () => download(`/rooms/${encodeURIComponent(code)}/export.csv?lang=${state.lang}`, `examroom-${code}.csv`).catch((e) => showBanner(e.message)) }), " ",
        bandwidthButton(code), " ",
        roomAdminButton(code))),
    bandwidthPanel(code),
    roomAdminPanel(code),
    ROOM_TABS.map((v) => el("section", { id: `tab-${v.name}`, class: v.panel ? `tab-panel ${v.panel}` : "tab-panel" }, v.build ? v.build(code) : null)));
  setView("room", page);
  renderAll();
}

/** The live tab: the tiles, and beside them the alerts and the journal. */
function livePanel(code) {
  return el("div", { class: "room-body" },
    el("div", { class: "tiles-wrap" },
      el("details", { class: "enrol no-print", id: "enrol-help" },
        el("summary", { text: t("dash.enrol.title") }), el("p", { text: t("dash.enrol.intro") }), commandBlock(code)),
      el("div", { id: "tiles", class: "tiles" })),
    el("aside", { id: "feed", class: "feed", "aria-labelledby": "feed-title" },
      el("div", { class: "feed-head" },
        el("h2", { id: "feed-title", tabindex: "-1", text: t("dash.alerts.title") }),
        el("label", { class: "small" },
          el("input", { type: "checkbox", id: "show-acked", checked: state.showAcked,
            onchange: (ev) => { state.showAcked = ev.target.checked; reloadFeed(); } }),
          " ", t("dash.alerts.show_acked"))),
      el("button", { type: "button", class: "btn btn-small ack-all", id: "ack-all", hidden: true, text: t("dash.alerts.ack_all"), onclick: ackAll }),
      el("ol", { id: "alert-list", class: "alert-list", "aria-live": "polite" }),
      el("details", { class: "journal" },
        el("summary", { text: t("dash.journal.title") }),
        el("ol", { id: "journal", class: "journal-list" }))));
}

function selectTab(tab) {
  state.tab = tab;
  document.body.dataset.tab = tab;
  for (const v of ROOM_TABS) {
    document.getElementById(`tab-${v.name}`).hidden = v.name !== tab;
    document.getElementById(`tab-link-${v.name}`).setAttribute("aria-selected", String(v.name === tab));
  }
  const shown = ROOM_TABS.find((v) => v.name === tab);
  if (shown && shown.shown) shown.shown();
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
  await Promise.all([loadTexts(state.lang), loadTls()]);
  for (const b of document.querySelectorAll("button.lang")) b.addEventListener("click", () => setLang(b.dataset.lang));
  document.getElementById("logout").addEventListener("click", async () => {
    // Revoked on the server too (and its live streams closed), not only forgotten here.
    if (state.token) await api("/logout", { method: "POST" }).catch(() => {});
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    stopLive();
    state.room = null;
    forgetMe();
    location.hash = "#/login";
  });
  // The server refused the token (base.js api()): back to the login, then to this page.
  window.addEventListener("examroom:expired", () => {
    stopLive();
    if (location.hash !== "#/login") location.hash = "#/login"; else route();
  });
  window.addEventListener("hashchange", route);
  setInterval(tickAges, 5000);
  route();
}

// A module runs once, after the document is parsed.
main();
