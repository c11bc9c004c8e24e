/* examroom dashboard: the draft of the PV d'incident. Lines come from
 * GET /rooms/{code}/incidents; the supervisors' completion (changed cells, added lines, a
 * global comment) is kept on the server (GET/PATCH /rooms/{code}/incidents/edits, merged
 * line by line with what other supervisors saved meanwhile) so that
 * another supervisor, another browser or a cleared cache sees it, and arrives live from the
 * others through the room's SSE stream (pv_edits). A copy stays in localStorage only as an
 * offline fallback: marked "dirty" until the server acknowledged it, and pushed as soon as
 * the server answers again.
 */
import { API, api, el, fmtDateTime, fmtTime, machineName, saveBlob, state, t } from "./base.js";

const PV_SAVE_DELAY_MS = 700;   // debounce: one save per pause in typing, not per key
const PV_RETRY_MS = 5000;       // server unreachable: try again this often
const PV_CLIENT = Math.random().toString(36).slice(2) + Date.now().toString(36);  // this page, to skip its own echo

function pvEmpty() { return { edits: {}, extra: [], comment: "" }; }

function pvLocal(code) {
  try {
    const saved = JSON.parse(localStorage.getItem(`examroom.pv.${code}`));
    if (saved && typeof saved === "object") return Object.assign(pvEmpty(), saved);
  } catch (_) { /* unreadable copy: start from the server's */ }
  return null;
}

function pvKeepLocal(code) {
  const pv = state.pv;
  localStorage.setItem(`examroom.pv.${code}`, JSON.stringify(Object.assign({}, pv.data, { dirty: pv.dirty, version: pv.version, base: pv.base })));
}

/* Line edits: what this page changed since the server's version it started from (pv.base).
 * Sent with PATCH and that version: the server merges them line by line with what others
 * saved meanwhile and returns the lines someone else changed first (conflicts). */
function pvCellsOf(edit) {
  const out = {};
  for (const [k, v] of Object.entries(edit || {})) if (v !== null && v !== undefined && v !== "") out[k] = v;
  return Object.keys(out).length ? out : null;
}

function pvDiff(base, data) {
  base = base || pvEmpty();
  const edits = {}, extra = {};
  const keys = new Set([...Object.keys(base.edits || {}), ...Object.keys(data.edits || {})]);
  for (const k of keys) {
    const before = pvCellsOf((base.edits || {})[k]), after = pvCellsOf((data.edits || {})[k]);
    if (JSON.stringify(before) !== JSON.stringify(after)) edits[k] = after;
  }
  const byKey = (lines) => Object.fromEntries((lines || []).map((x) => [x.key, x]));
  const b = byKey(base.extra), d = byKey(data.extra);
  for (const k of new Set([...Object.keys(b), ...Object.keys(d)])) {
    if (JSON.stringify(b[k] || null) !== JSON.stringify(d[k] || null)) extra[k] = d[k] || null;
  }
  const diff = { edits, extra };
  if ((base.comment || "") !== (data.comment || "")) diff.comment = data.comment || "";
  return diff;
}

/** ``record`` (the server's newest) with this page's own line edits still on top. */
function pvRebase(record, diff) {
  const data = pvData(record);
  for (const [k, cells] of Object.entries(diff.edits)) { if (cells) data.edits[k] = cells; else delete data.edits[k]; }
  for (const [k, line] of Object.entries(diff.extra)) {
    const at = data.extra.findIndex((x) => x.key === k);
    if (line && at >= 0) data.extra[at] = line; else if (line) data.extra.push(line); else if (at >= 0) data.extra.splice(at, 1);
  }
  if (diff.comment !== undefined) data.comment = diff.comment;
  return data;
}

function pvBody(pv) {
  return Object.assign({ base_version: pv.version || 0, client: PV_CLIENT }, pvDiff(pv.base, pv.data));
}

function pvData(record) {
  // A deep copy: the page edits its data in place, and pv.base must stay the server's version.
  return JSON.parse(JSON.stringify({ edits: record.edits || {}, extra: record.extra || [], comment: record.comment || "" }));
}

/** The room's edits: the server's, unless this browser holds changes the server never got. */
async function pvLoad(code) {
  const local = pvLocal(code);
  let remote = null;
  try {
    remote = await api(`/rooms/${encodeURIComponent(code)}/incidents/edits`);
  } catch (e) {
    if (e.status === 401) throw e;
  }
  if (!state.room || state.room.code !== code) return;
  if (state.pv && state.pv.code === code && state.pv.dirty) {
    pvSchedule(0);  // typed here while loading: that is the newest
    return;
  }
  if (local && local.dirty) {
    // Offline edits: replayed as the lines changed since the version they were made from.
    state.pv = { code, data: pvData(local), base: local.base || pvEmpty(), dirty: true, version: local.version || 0, status: "pending" };
    pvSchedule(0);
  } else if (remote) {
    // A conflict this page was told about stays said until the supervisor edits again.
    const told = state.pv && state.pv.code === code && (state.pv.conflicts || []).length ? state.pv.conflicts : null;
    state.pv = { code, data: pvData(remote), base: pvData(remote), dirty: false, version: remote.version, status: told ? "conflict" : remote.version ? "saved" : "idle", conflicts: told || [], by: remote.updated_by, at: remote.updated_at };
    pvKeepLocal(code);
  } else {
    state.pv = { code, data: local ? pvData(local) : pvEmpty(), base: local && local.base ? local.base : pvEmpty(), dirty: false, version: local ? local.version || 0 : 0, status: "offline" };
  }
}

function pvChanged() {
  const pv = state.pv;
  pv.conflicts = [];  // edited again: the supervisor has seen the conflict notice
  pv.dirty = true;
  pv.status = "pending";
  pvKeepLocal(pv.code);
  pvShowStatus();
  pvSchedule(PV_SAVE_DELAY_MS);
}

export function pvSchedule(delay) {
  const pv = state.pv;
  if (!pv) return;
  clearTimeout(pv.timer);
  pv.timer = setTimeout(pvPush, delay);
}

async function pvPush() {
  const pv = state.pv;
  if (!pv || !pv.dirty || pv.busy) return;
  if (!state.room || state.room.code !== pv.code) return;
  pv.busy = true;
  const sent = JSON.stringify(pv.data);
  try {
    const res = await api(`/rooms/${encodeURIComponent(pv.code)}/incidents/edits`, { method: "PATCH", json: pvBody(pv) });
    const typedMeanwhile = JSON.stringify(pv.data) !== sent;
    const pending = typedMeanwhile ? pvDiff(JSON.parse(sent), pv.data) : null;
    pv.version = res.version;
    pv.by = res.updated_by;
    pv.at = res.updated_at;
    pv.base = pvData(res);
    pv.data = pending ? pvRebase(res, pending) : pvData(res);
    pv.conflicts = (res.conflicts || []).concat(pv.conflicts || []);
    if (pv.conflicts.length) {
      // Someone else changed these lines first: theirs is kept and shown, ours is said.
      pv.status = "conflict";
      if (state.tab === "incidents" && state.incidents) renderIncidents();
    } else pv.status = "saved";
    // Typed again while the save was on its way: still dirty, the next save carries it.
    if (!typedMeanwhile) pv.dirty = false;
    else pvSchedule(PV_SAVE_DELAY_MS);
    pvKeepLocal(pv.code);
  } catch (e) {
    pv.status = e.status >= 400 && e.status < 500 && e.status !== 401 ? "refused" : "offline";
    pv.error = e.message;
    if (pv.status === "offline") pvSchedule(PV_RETRY_MS);
  } finally {
    pv.busy = false;
    pvShowStatus();
  }
}

/** Leaving the page with a save pending: send it anyway (keepalive outlives the page). */
window.addEventListener("pagehide", () => {
  const pv = state.pv;
  if (!pv || !pv.dirty || !state.token) return;
  try {
    fetch(`${API}/rooms/${encodeURIComponent(pv.code)}/incidents/edits`, { method: "PATCH", keepalive: true,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}` },
      body: JSON.stringify(pvBody(pv)) });
  } catch (_) { /* the local copy is still marked dirty: pushed on the next visit */ }
});

/** Another supervisor saved (SSE pv_edits). */
export function onPvEdits(record) {
  if (record.client === PV_CLIENT || !state.room) return;
  const pv = state.pv;
  if (!pv || pv.code !== state.room.code) return;  // not loaded yet: loaded with the tab
  if (record.version <= pv.version) return;
  let data = pvData(record), status = "saved";
  if (pv.dirty) {
    // Our unsaved lines stay on top of theirs, except the lines they changed too: theirs is
    // kept and the conflict said (as the server does for a PATCH); the rest is sent next.
    const mine = pvDiff(pv.base, pv.data), theirs = pvDiff(pv.base, pvData(record));
    const meta = record.lines || {};
    const conflicts = [];
    for (const [k, cells] of Object.entries(mine.edits)) {
      if (k in theirs.edits && JSON.stringify(theirs.edits[k]) !== JSON.stringify(cells)) {
        conflicts.push({ line: `e:${k}`, mine: cells, theirs: theirs.edits[k], by: (meta[`e:${k}`] || {}).by });
        delete mine.edits[k];
      }
    }
    for (const [k, line] of Object.entries(mine.extra)) {
      if (k in theirs.extra && JSON.stringify(theirs.extra[k]) !== JSON.stringify(line)) {
        conflicts.push({ line: `x:${k}`, mine: line, theirs: theirs.extra[k], by: (meta[`x:${k}`] || {}).by });
        delete mine.extra[k];
      }
    }
    if (mine.comment !== undefined && theirs.comment !== undefined && mine.comment !== theirs.comment) {
      conflicts.push({ line: "comment", mine: mine.comment, theirs: theirs.comment, by: (meta.comment || {}).by });
      delete mine.comment;
    }
    data = pvRebase(record, mine);
    pv.conflicts = conflicts.concat(pv.conflicts || []);
    status = pv.conflicts.length ? "conflict" : "pending";
  }
  state.pv = Object.assign(pv, { data, base: pvData(record), version: record.version, status, by: record.updated_by, at: record.updated_at });
  if (pv.dirty) pvSchedule(0);  // our remaining lines, from the new version
  pvKeepLocal(pv.code);
  if (state.tab === "incidents" && state.incidents) renderIncidents();
}

function pvStatusText(pv) {
  switch (pv.status) {
    case "saved": return pv.at ? t("dash.pv.saved_at", { time: fmtTime(pv.at), who: pv.by || "" }) : t("dash.pv.saved");
    case "pending": return t("dash.pv.unsaved");
    case "offline": return t("dash.pv.offline");
    case "refused": return t("dash.pv.refused", { error: pv.error || "" });
    case "conflict": return t("dash.pv.conflict", { count: (pv.conflicts || []).length,
      who: [...new Set((pv.conflicts || []).map((c) => c.by || "?"))].join(", "),
      mine: (pv.conflicts || []).map((c) => (c.mine && (c.mine.details_text || c.mine.code || c.mine.label)) || (typeof c.mine === "string" ? c.mine : "—")).join(" | ") });
    default: return t("dash.pv.nothing_yet");
  }
}

function pvShowStatus() {
  const node = document.getElementById("pv-save-state");
  if (!node || !state.pv) return;
  node.dataset.state = state.pv.status;
  node.textContent = pvStatusText(state.pv);
}

export async function loadIncidents() {
  const box = document.getElementById("tab-incidents");
  const code = state.room.code;
  if (!state.incidents) box.replaceChildren(el("p", { class: "muted", text: t("dash.loading") }));
  try {
    const [lines, timeline] = await Promise.all([
      api(`/rooms/${encodeURIComponent(code)}/incidents?lang=${state.lang}&format=json`),
      api(`/rooms/${encodeURIComponent(code)}/incidents/timeline`).catch((e) => { if (e.status === 401) throw e; return null; }),
      pvLoad(code),
    ]);
    if (!state.room || state.room.code !== code) return;
    state.incidents = lines;
    state.timeline = timeline;
  } catch (e) {
    if (e.status !== 401) box.replaceChildren(el("p", { class: "form-error", text: e.message }));
    return;
  }
  renderIncidents();
}

export function renderIncidents() {
  const box = document.getElementById("tab-incidents");
  const code = state.room.code;
  if (!state.pv || state.pv.code !== code) state.pv = { code, data: pvEmpty(), base: pvEmpty(), dirty: false, version: 0, status: "idle" };
  const store = state.pv.data;
  const rows = state.incidents.map((r) => Object.assign({ key: `${r.at}|${r.machine_id}|${r.kind}` }, r, pvDefined(store.edits[`${r.at}|${r.machine_id}|${r.kind}`])));
  const all = [...rows, ...store.extra.map((r) => Object.assign({ manual: true }, r))];
  const cell = (r, field, cls) => el("td", { class: cls, contenteditable: "true", "data-field": field, text: r[field] || "" });
  const tbody = el("tbody", {}, all.map((r) => el("tr", { "data-key": r.key, "data-code": r.code, class: r.manual ? "manual" : "" },
    r.manual ? cell(r, "time") : el("td", { text: fmtTime(r.at_corrected || r.at) }),
    r.manual ? cell(r, "hostname") : el("td", { text: machineName(r.machine_id, r.hostname) }),
    cell(r, "code", "pv-code"), cell(r, "label"), cell(r, "details_text"),
    el("td", { class: "no-print" }, r.manual ? el("button", { type: "button", class: "btn btn-small", text: t("dash.pv.remove"), onclick: () => {
      store.extra = store.extra.filter((x) => x.key !== r.key);
      pvChanged();
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
    pvChanged();
  });
  const add = () => {
    store.extra.push({ key: `manual-${Date.now()}`, time: fmtTime(new Date().toISOString()), hostname: "", code: "", label: "", details_text: "" });
    pvChanged();
    renderIncidents();
  };
  const comment = el("textarea", { id: "pv-comment", class: "pv-comment", rows: "3", maxlength: "8000", "aria-labelledby": "pv-comment-title" });
  comment.value = store.comment || "";
  comment.addEventListener("input", () => { store.comment = comment.value; pvChanged(); });
  box.replaceChildren(...[
    el("div", { class: "sheet-head" },
      el("h2", { text: t("dash.pv.title", { name: state.room.name }) }),
      el("p", {}, t("dash.sheet.code", { code }), " · ", t("dash.sheet.printed", { date: fmtDateTime(new Date().toISOString()) })),
      el("p", { class: "muted no-print", text: t("dash.pv.intro") }),
      el("div", { class: "no-print inline" },
        el("button", { type: "button", class: "btn btn-primary", id: "print-pv", text: t("dash.action.print"), onclick: () => window.print() }),
        el("button", { type: "button", class: "btn", id: "pv-csv", text: t("dash.action.export_csv"), onclick: () => pvCsv(code) }),
        el("button", { type: "button", class: "btn", id: "pv-add", text: t("dash.pv.add"), onclick: add }),
        el("button", { type: "button", class: "btn", id: "pv-refresh", text: t("dash.action.refresh"), onclick: loadIncidents }),
        el("span", { id: "pv-save-state", class: "pv-save-state", role: "status", "aria-live": "polite" }))),
    timelineBlock(),
    all.length ? el("table", { class: "table pv-table", id: "pv-table" },
      el("thead", {}, el("tr", {}, ["dash.pv.col.time", "dash.pv.col.host", "dash.pv.col.code", "dash.pv.col.label", "dash.pv.col.details"].map((k) => el("th", { text: t(k) })), el("th", { class: "no-print" }))),
      tbody)
      : el("p", { class: "empty", text: t("dash.pv.none") }),
    el("h3", { id: "pv-comment-title", text: t("dash.pv.comment") }),
    comment,
    el("div", { class: "signatures" },
      el("p", { text: t("dash.pv.sign") }), el("p", { text: t("dash.sheet.sign_date") }))].filter(Boolean));
  pvShowStatus();
}

/** When the exam started and ended (exam_started / exam_ended): the PV's header, not incidents. */
function timelineBlock() {
  const tl = state.timeline;
  if (!tl || !tl.machines || !tl.machines.length) return null;
  const started = tl.machines.filter((m) => m.started_at).length;
  const ended = tl.machines.filter((m) => m.ended_at).length;
  const summary = tl.started_at && tl.ended_at && ended === started
    ? t("dash.pv.timeline.room", { start: fmtTime(tl.started_at), end: fmtTime(tl.ended_at) })
    : tl.started_at ? t("dash.pv.timeline.running", { start: fmtTime(tl.started_at) }) : "";
  return el("section", { class: "pv-timeline", id: "pv-timeline" },
    el("h3", { text: t("dash.pv.timeline.title") }),
    summary ? el("p", { class: "pv-timeline-summary", text: summary }) : null,
    el("p", { class: "muted", text: t("dash.pv.timeline.counts", { started, ended }) }),
    el("details", { class: "pv-timeline-machines" },
      el("summary", { text: t("dash.pv.timeline.by_machine") }),
      el("ul", {}, tl.machines.map((m) => el("li", { "data-machine-id": m.machine_id },
        el("strong", { text: t("dash.sheet.item", { title: machineName(m.machine_id, m.hostname) }) }), " ",
        m.started_at ? fmtTime(m.started_at) : "?", " → ", m.ended_at ? fmtTime(m.ended_at) : t("dash.pv.timeline.not_ended"))))));
}

/** Only the cells a supervisor actually changed (the server returns the others as null). */
function pvDefined(edit) {
  const out = {};
  for (const [k, v] of Object.entries(edit || {})) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

/** The draft as edited, as CSV (BOM and ';' in French, like the server's exports). */
function pvCsv(code) {
  const sep = state.lang === "fr" ? ";" : ",";
  // OWASP CSV injection: a cell starting with = + - @ tab or CR would be a formula in a
  // spreadsheet; prefixed with an apostrophe it is text (as core/csvsafe.py does server-side).
  const quote = (v) => {
    const text = String(v ?? "");
    return `"${(/^[=+\-@\t\r]/.test(text) ? "'" + text : text).replace(/"/g, '""')}"`;
  };
  const lines = [["dash.pv.col.time", "dash.pv.col.host", "dash.pv.col.code", "dash.pv.col.label", "dash.pv.col.details"].map((k) => quote(t(k))).join(sep)];
  for (const tr of document.querySelectorAll("#pv-table tbody tr")) {
    lines.push([...tr.cells].slice(0, 5).map((td) => quote(td.textContent.trim())).join(sep));
  }
  const comment = state.pv && state.pv.data.comment ? state.pv.data.comment.trim() : "";
  if (comment) lines.push(["", "", "", quote(t("dash.pv.comment")), quote(comment)].join(sep));
  const blob = new Blob([(state.lang === "fr" ? "\ufeff" : "") + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
  saveBlob(blob, `examroom-${code}-pv.csv`);
}
