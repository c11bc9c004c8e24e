/* examroom dashboard: the alerts panel, the event journal and the live stream. Reads
 * GET /rooms/{code}/alert-groups (alerts.js), /events and /machines (a snapshot on each
 * (re)connection) and the Server-Sent Events of GET /rooms/{code}/stream (machine, event, ack,
 * group and pv_edits messages); alerts are acknowledged per group (alerts.js).
 */
import { API, api, el, fmtTime, hideBanner, machineName, showBanner, state, t } from "./base.js";
import { ackAllGroups, loadGroups, onAlertAck, onChange, onGroup, renderGroups } from "./alerts.js";
import { loadIncidents, onPvEdits, pvSchedule } from "./pv.js";
import { removeMachine, renderCounters, renderTiles, upsertMachine } from "./room.js";
import { renderSheet } from "./sheets.js";

/* ---------- alerts ---------- */

/** "45 s", "3 min 05 s", "1 h 02 min": how long an absence or an outage lasted. */
export function fmtDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds)));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/* Event kinds come from the server's spec (GET /kinds, core/data/kinds.toml): label, typed
 * details, the details shown and the tile effect. Nothing here knows a kind by name. */

/** The spec of an event as it applies to its details (the first matching variant merged in). */
export function kindSpec(kind, details) {
  const spec = ((state.kinds || {}).kinds || {})[kind];
  if (!spec) return { label: `dash.kind.${kind}`, details: {}, show: [] };
  const d = details || {};
  const variant = (spec.variant || []).find((v) => Object.entries(v.when).every(([k, want]) => d[k] === want));
  if (!variant) return spec;
  const merged = Object.assign({}, spec);
  for (const [k, v] of Object.entries(variant)) if (k !== "when" && v !== null && v !== undefined) merged[k] = v;
  return merged;
}

const absent = (v) => v === undefined || v === null || v === "";

/** The details of the journal line, in the spec's order: each by its declared type, through
 * its text key if any; an absent detail shows its fallback; a value already shown is not repeated;
 * a bool detail shows its text only when true. */
function detailText(kind, d) {
  const spec = kindSpec(kind, d);
  const details = d || {};
  const shown = [];
  const parts = [];
  for (const name of spec.show || []) {
    const decl = spec.details[name] || {};
    let value = details[name];
    if (decl.type === "bool") {
      // a flag ("during a focused question"): its words when true, nothing otherwise
      if (value === true && decl.text) parts.push(t(decl.text));
      continue;
    }
    if (absent(value) && decl.fallback) value = details[decl.fallback];
    if (decl.type === "map" && value && typeof value === "object" && !Array.isArray(value)) {
      // {setting: [announced, room's]}: "heartbeat_s 600 ≠ 2"
      const text = Object.entries(value).map(([k, v]) => Array.isArray(v) ? `${k} ${v.join(" ≠ ")}` : `${k} ${v}`).join(", ");
      if (text) parts.push(decl.text ? t(decl.text, { value: text }) : text);
      continue;
    }
    if (absent(value) || typeof value === "object" || shown.includes(value)) continue;
    shown.push(value);
    let text;
    if (decl.values) text = t(decl.values + value);
    else if (decl.type === "duration") text = fmtDuration(value);
    else if (decl.type === "time") text = fmtTime(value);
    else text = String(value);
    parts.push(decl.text ? t(decl.text, { value: text }) : text);
  }
  return parts.join(" ");
}

function kindLabel(kind, details) {
  const key = kindSpec(kind, details).label;
  return Object.prototype.hasOwnProperty.call(state.texts, key) ? t(key) : kind;
}

/* A room flooded with alerts (20,000 from one hostile machine) stays usable: repeats are one
 * group each (alerts.js, paged by the server), and a burst of events redraws the list once
 * per frame, not once per event. */
let feedFrame = 0;

function scheduleFeed() {
  if (feedFrame) return;
  feedFrame = requestAnimationFrame(() => { feedFrame = 0; renderFeed(); });
}

const WORDS = { detailText, kindLabel };
onChange(scheduleFeed);

export function renderFeed() {
  const list = document.getElementById("alert-list");
  if (!list) return;
  renderGroups(list, WORDS);
  renderCounters();
}

/** "Show acknowledged alerts" changed: the server's first page again, with or without them. */
export async function reloadFeed() {
  try {
    await loadGroups();
  } catch (e) { if (e.status !== 401) showBanner(e.message); }
  renderFeed();
}

/** After a network blip every companion may be "lost" at once: one click for all of them. */
export async function ackAll() {
  await ackAllGroups();
}

function onAck(res) {
  onAlertAck(res);
  scheduleFeed();
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
  // An alert's group (its count, its last time) comes right after in a "group" message.
  // The server follows with a machine row; this makes the tile react at once meanwhile.
  const m = state.machines.get(ev.machine_id);
  const tile = kindSpec(ev.kind, ev.details).tile;
  if (m && (tile === "focus_away" || tile === "focus_exam")) {
    const away = tile === "focus_away";
    const d = ev.details || {};
    machineChanged(Object.assign({}, m, { focus: away ? "away" : "exam", focus_title: away ? (d.title ?? null) : null,
      focus_level: away ? (d.level || "alert") : null, focus_category: away ? (d.category || null) : null,
      focus_label: away ? (d.host || d.program || d.process || null) : null,
      // back on the exam the question is the same one: its requirement stays until a heartbeat says otherwise
      focus_required: away ? d.focus_required === true : m.focus_required === true }));
  }
  renderJournal();
  // The PV's timeline shows when the exam started and ended: bring it up to date.
  if ((ev.kind === "exam_started" || ev.kind === "exam_ended") && state.tab === "incidents" && state.incidents) loadIncidents();
}

/** An event's details after its label: « Retour sur l'épreuve : absence de 1 s », but
 * « Partage d'écran démarré (Zoom) » or « Sortie de l'épreuve [Outil autorisé] … » when the
 * details open with a bracket already. */
function journalDetail(e) {
  const detail = detailText(e.kind, e.details);
  if (!detail) return "";
  return /^[([]/.test(detail) ? ` ${detail}` : `${t("dash.journal.sep")}${detail}`;
}

export function renderJournal() {
  const list = document.getElementById("journal");
  if (!list) return;
  list.replaceChildren(...state.events.slice(0, 50).map((e) => el("li", {},
    el("time", { datetime: e.at_corrected || e.at, title: e.at_corrected && e.at_corrected !== e.at ? t("dash.time.machine", { time: fmtTime(e.at) }) : null, text: fmtTime(e.at_corrected || e.at) }), " ",
    el("strong", { text: machineName(e.machine_id, e.hostname) }), " — ", kindLabel(e.kind, e.details),
    journalDetail(e))));
}

/** A machine row changed: its tile and the counters (room.js), and the printable sheet. */
function machineChanged(m) {
  upsertMachine(m);
  renderSheet();
}

/** Everything the room shows from the state, after a snapshot or a change of language. */
export function renderAll() {
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
  const during = { machines: new Map(), groups: new Map() };
  state.during = during;
  try {
    if (!state.kinds) state.kinds = await api("/kinds");
    const [machines] = await Promise.all([api(`/rooms/${code}/machines`), loadGroups()]);
    if (!state.room || state.room.code !== room) return;  // another room was opened meanwhile
    state.machines = new Map(machines.map((m) => [m.machine_id, m]));
    for (const [id, m] of during.machines) state.machines.set(id, m);
    state.during = null;
    for (const g of during.groups.values()) onGroup(g);
    // The journal: the newest events the first time (it shows 50), else those missed while
    // the stream was down.
    const first = !state.lastSeq;
    if (first) {
      for (const ev of await api(`/rooms/${code}/events?last=100`)) remember(ev);
    }
    for (let page = 0; page < 20 && !first; page++) {
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

export function startLive() {
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
    // PV edits typed while the server was away: the server is back, send them now.
    if (state.pv && state.pv.dirty) pvSchedule(0);
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
  es.addEventListener("machine", (e) => machineChanged(JSON.parse(e.data)));
  // a machine removed from the room (machines.js): its tile goes; its events stay in the journal
  es.addEventListener("machine_removed", (e) => { removeMachine(JSON.parse(e.data).machine_id); renderSheet(); });
  es.addEventListener("event", (e) => onEvent(JSON.parse(e.data)));
  es.addEventListener("ack", (e) => onAck(JSON.parse(e.data)));
  es.addEventListener("group", (e) => { onGroup(JSON.parse(e.data)); scheduleFeed(); });
  es.addEventListener("pv_edits", (e) => onPvEdits(JSON.parse(e.data)));
  // the room's administration panel (roomadmin.js) follows these as window events
  for (const kind of ["enrolment", "room_settings", "room_deleted", "machine", "machine_removed"]) {
    es.addEventListener(kind, (e) => window.dispatchEvent(new CustomEvent(`examroom:${kind}`, { detail: JSON.parse(e.data) })));
  }
}

export function stopLive() {
  if (state.es) { state.es.close(); state.es = null; }
  for (const timer of state.timers) clearTimeout(timer);
  state.timers = [];
  clearTimeout(state.roomsTimer);
  document.body.dataset.live = "off";
}
