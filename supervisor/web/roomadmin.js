/* examroom dashboard: the room's administration panel (supervisor/routes_roomadmin.py,
 * routes_admin.py): its enrolment window (state, closing time, machines against the cap, open
 * for a duration / close), its companions' settings (heartbeat, lost timeout, exam title,
 * platform; each field shows the server's value it inherits), and deleting the room (admin;
 * a confirmation dialog that offers the room's archive first). What the caller's role may not
 * do is shown read-only (GET /me, through accounts.js); the server decides anyway (403).
 *
 * Reads GET/PUT /rooms/{code}/enrolment, GET/PUT /rooms/{code}/settings, DELETE /rooms/{code},
 * GET /rooms/{code}/archive; follows the stream's enrolment, room_settings and room_deleted
 * events (relayed by feed.js as window events "examroom:<kind>").
 */
import { loadMe } from "./accounts.js";
import { api, el, fmtDateTime, fmtNumber, saveBlob, showBanner, state, t } from "./base.js";

const FIELDS = [
  { name: "heartbeat_s", type: "number", step: "0.1", min: "0.2", max: "600" },
  { name: "lost_after_s", type: "number", step: "0.5", min: "1", max: "3600" },
  { name: "exam_title", type: "text", maxlength: "512" },
  { name: "platform_url", type: "url", maxlength: "2048" },
];
const DURATIONS_H = [1, 4, 24, 24 * 7];

let current = { code: null, enrolment: null, settings: null, me: null };

/** The button of the room's actions bar: opens the panel. */
export function roomAdminButton(code) {
  return el("button", { type: "button", class: "btn", id: "room-admin-open", text: t("dash.roomadmin.open"),
    onclick: () => {
      const panel = document.getElementById("room-admin");
      if (panel) { panel.open = true; load(code); panel.scrollIntoView({ block: "nearest" }); }
    } });
}

/** The panel under the room's head (closed until asked for). */
export function roomAdminPanel(code) {
  current = { code, enrolment: null, settings: null, me: null };
  const panel = el("details", { class: "room-admin no-print", id: "room-admin" },
    el("summary", { text: t("dash.roomadmin.title") }),
    el("section", { class: "roomadmin-part", id: "enrolment-admin", "aria-labelledby": "enrolment-admin-title" },
      el("h3", { id: "enrolment-admin-title", text: t("dash.roomadmin.enrol.title") }),
      el("p", { id: "enrolment-state", "aria-live": "polite" }),
      el("p", { id: "enrolment-count" }),
      el("div", { class: "inline", id: "enrolment-actions" },
        el("label", { for: "enrolment-hours", text: t("dash.roomadmin.enrol.duration") }),
        el("select", { id: "enrolment-hours" }, DURATIONS_H.map((h) =>
          el("option", { value: String(h), selected: h === 24, text: t(h < 24 ? "dash.roomadmin.enrol.hours" : "dash.roomadmin.enrol.days", { n: h < 24 ? h : h / 24 }) }))),
        el("button", { type: "button", class: "btn btn-primary", id: "enrolment-open", text: t("dash.roomadmin.enrol.open"),
          onclick: () => setEnrolment(code, Number(document.getElementById("enrolment-hours").value)) }),
        el("button", { type: "button", class: "btn", id: "enrolment-close", text: t("dash.roomadmin.enrol.close"),
          onclick: () => setEnrolment(code, 0) }),
        el("label", { for: "enrolment-cap", text: t("dash.roomadmin.enrol.cap") }),
        el("input", { id: "enrolment-cap", type: "number", min: "1", max: "5000", step: "1", class: "cap-input" }),
        el("button", { type: "button", class: "btn", id: "enrolment-cap-save", text: t("dash.roomadmin.enrol.cap_save"),
          onclick: () => setCap(code, document.getElementById("enrolment-cap").value) })),
      el("p", { class: "form-error", role: "alert", id: "enrolment-error" })),
    el("section", { class: "roomadmin-part", "aria-labelledby": "settings-admin-title" },
      el("h3", { id: "settings-admin-title", text: t("dash.roomadmin.settings.title") }),
      el("p", { class: "small", text: t("dash.roomadmin.settings.intro") }),
      settingsForm(code)),
    el("section", { class: "roomadmin-part danger", id: "delete-admin", "aria-labelledby": "delete-admin-title" },
      el("h3", { id: "delete-admin-title", text: t("dash.roomadmin.delete.title") }),
      el("p", { class: "small", text: t("dash.roomadmin.delete.intro") }),
      el("button", { type: "button", class: "btn btn-danger", id: "room-delete", text: t("dash.roomadmin.delete.button"),
        onclick: () => confirmDelete(code) })));
  panel.addEventListener("toggle", () => { if (panel.open) load(code); });
  return panel;
}

function settingsForm(code) {
  const form = el("form", { id: "settings-form", class: "settings-form", novalidate: true },
    FIELDS.map((f) => el("div", { class: "field" },
      el("label", { for: `setting-${f.name}`, text: t(`dash.roomadmin.field.${f.name}`) }),
      el("input", { id: `setting-${f.name}`, name: f.name, type: f.type, step: f.step, min: f.min, max: f.max,
        maxlength: f.maxlength, "aria-describedby": `setting-${f.name}-note` }),
      el("span", { class: "small muted", id: `setting-${f.name}-note` }))),
    el("div", { class: "inline" },
      el("button", { type: "submit", class: "btn btn-primary", id: "settings-save", text: t("dash.roomadmin.settings.save") }),
      el("button", { type: "button", class: "btn", id: "settings-reset", text: t("dash.roomadmin.settings.reset"),
        onclick: () => saveSettings(code, {}) })),
    el("p", { id: "settings-status", role: "status", "aria-live": "polite" }),
    el("p", { class: "form-error", role: "alert", id: "settings-error" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const own = {};
    for (const f of FIELDS) {
      const raw = document.getElementById(`setting-${f.name}`).value.trim();
      if (raw !== "") own[f.name] = f.type === "number" ? Number(raw) : raw;
    }
    saveSettings(code, own);
  });
  return form;
}

async function load(code) {
  try {
    current.me = (await loadMe()) || { role: "supervisor" };   // cached per token (accounts.js)
    const [enrolment, settings] = await Promise.all([
      api(`/rooms/${encodeURIComponent(code)}/enrolment`), api(`/rooms/${encodeURIComponent(code)}/settings`)]);
    if (current.code !== code) return;
    current.enrolment = enrolment;
    current.settings = settings;
    render();
  } catch (e) {
    if (e.status !== 401) showBanner(e.message);
  }
}

function render() {
  const role = (current.me && current.me.role) || "supervisor";
  const canAdminister = role === "admin" || role === "technician";
  renderEnrolment(canAdminister);
  renderSettings(canAdminister);
  const del = document.getElementById("delete-admin");
  if (del) del.hidden = role !== "admin";
}

function renderEnrolment(canAdminister) {
  const w = current.enrolment;
  const status = document.getElementById("enrolment-state");
  if (!w || !status) return;
  status.dataset.open = String(w.open);
  status.textContent = w.open ? t("dash.roomadmin.enrol.is_open", { until: fmtDateTime(w.open_until) })
    : t("dash.roomadmin.enrol.is_closed");
  status.className = w.open ? "enrol-open" : "enrol-closed";
  const count = state.machines.size;
  const line = document.getElementById("enrolment-count");
  line.textContent = t("dash.roomadmin.enrol.count", { count, cap: w.max_machines });
  line.classList.toggle("alarm-text", count >= w.max_machines);
  document.getElementById("enrolment-actions").hidden = !canAdminister;
  const cap = document.getElementById("enrolment-cap");
  if (document.activeElement !== cap) cap.value = String(w.max_machines);  // not while being typed in
  document.getElementById("enrolment-close").disabled = !w.open;
}

function renderSettings(canAdminister) {
  const s = current.settings;
  if (!s || !document.getElementById("settings-form")) return;
  for (const f of FIELDS) {
    const input = document.getElementById(`setting-${f.name}`);
    const own = Object.prototype.hasOwnProperty.call(s.own, f.name);
    // a field the supervisor is typing in is not overwritten by a stream update
    if (document.activeElement !== input) input.value = own ? String(s.own[f.name]) : "";
    input.placeholder = shown(s.settings[f.name]);
    input.readOnly = !canAdminister;
    input.removeAttribute("aria-invalid");
    const server = s.server[f.name];
    document.getElementById(`setting-${f.name}-note`).textContent = own ? t("dash.roomadmin.own")
      : t("dash.roomadmin.inherited", { value: shown(server) });
  }
  document.getElementById("settings-save").hidden = !canAdminister;
  document.getElementById("settings-reset").hidden = !canAdminister;
}

/** A setting as a person reads it: numbers in the page's language ("0,5"), no platform: "any". */
function shown(value) {
  if (value === null || value === undefined) return t("dash.roomadmin.any");
  return typeof value === "number" ? fmtNumber(value, 2) : String(value);
}

async function setEnrolment(code, hours) {
  await putEnrolment(code, { open_hours: hours });
}

/** The room's machine cap (1-5000; the server refuses anything else with 422). */
async function setCap(code, raw) {
  const cap = Number(raw);
  if (!Number.isInteger(cap) || cap < 1 || cap > 5000) {
    document.getElementById("enrolment-error").textContent = t("dash.roomadmin.enrol.cap_bad");
    return;
  }
  await putEnrolment(code, { max_machines: cap });
}

async function putEnrolment(code, body) {
  const error = document.getElementById("enrolment-error");
  error.textContent = "";
  try {
    current.enrolment = await api(`/rooms/${encodeURIComponent(code)}/enrolment`, { method: "PUT", json: body });
    render();
  } catch (e) {
    error.textContent = e.status === 403 ? t("dash.roomadmin.forbidden") : e.message;
  }
}

async function saveSettings(code, own) {
  const error = document.getElementById("settings-error");
  const status = document.getElementById("settings-status");
  error.textContent = status.textContent = "";
  try {
    current.settings = await api(`/rooms/${encodeURIComponent(code)}/settings`, { method: "PUT", json: own });
    for (const f of FIELDS) document.getElementById(`setting-${f.name}`).value = "";
    render();
    status.textContent = t("dash.roomadmin.settings.saved");
  } catch (e) {
    const field = e.detail && e.detail.field;
    const input = field && document.getElementById(`setting-${field}`);
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    const reason = e.detail && e.detail.reason ? `dash.roomadmin.bad.${e.detail.reason}` : null;
    const label = field ? t(`dash.roomadmin.field.${field}`) : "";
    const sep = state.lang === "fr" ? " : " : ": ";   // French puts a space before the colon
    error.textContent = e.status === 403 ? t("dash.roomadmin.forbidden")
      : reason && Object.prototype.hasOwnProperty.call(state.texts, reason) ? (label ? label + sep : "") + t(reason) : e.message;
  }
}

/* ---------- deleting the room ---------- */

function confirmDelete(code) {
  const name = (state.room && state.room.name) || code;
  const error = el("p", { class: "form-error", role: "alert", id: "delete-error" });
  const force = el("label", { class: "small", id: "delete-force-label", hidden: true },
    el("input", { type: "checkbox", id: "delete-force" }), " ", t("dash.roomadmin.delete.force"));
  const typed = el("input", { id: "delete-code", autocomplete: "off", spellcheck: "false", "aria-describedby": "delete-code-help" });
  const confirm = el("button", { type: "button", class: "btn btn-danger", id: "delete-confirm", disabled: true, text: t("dash.roomadmin.delete.confirm") });
  const dialog = el("dialog", { id: "delete-dialog", class: "report-dialog", "aria-labelledby": "delete-dialog-title" },
    el("header", { class: "dialog-head" }, el("h2", { id: "delete-dialog-title", text: t("dash.roomadmin.delete.dialog_title", { name }) })),
    el("p", { text: t("dash.roomadmin.delete.consequences", { count: state.machines.size }) }),
    el("p", { text: t("dash.roomadmin.delete.kept") }),
    el("p", {}, el("button", { type: "button", class: "btn", id: "delete-archive", text: t("dash.roomadmin.delete.archive"),
      onclick: () => downloadArchive(code).catch((e) => { error.textContent = e.message; }) })),
    el("label", { for: "delete-code", id: "delete-code-help", text: t("dash.roomadmin.delete.type_code", { code }) }), " ", typed,
    force, error,
    el("div", { class: "inline" }, confirm,
      el("button", { type: "button", class: "btn", id: "delete-cancel", text: t("dash.roomadmin.delete.cancel"), onclick: () => dialog.close() })));
  // the code typed again: a deletion is never one stray click
  typed.addEventListener("input", () => { confirm.disabled = typed.value.trim().toUpperCase() !== code; });
  confirm.addEventListener("click", async () => {
    error.textContent = "";
    const forced = document.getElementById("delete-force").checked;
    try {
      current.deleting = code;   // its own room_deleted event, coming on the stream, is not news
      const done = await api(`/rooms/${encodeURIComponent(code)}?force=${forced}`, { method: "DELETE" });
      dialog.close();
      roomGone(done, true);
    } catch (e) {
      current.deleting = null;
      if (e.status === 409 && e.detail) {
        force.hidden = false;
        error.textContent = t("dash.roomadmin.delete.active", { reports: e.detail.reports, events: e.detail.events,
          at: fmtDateTime(e.detail.last_received_at) });
      } else {
        error.textContent = e.status === 403 ? t("dash.roomadmin.forbidden") : e.message;
      }
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  typed.focus();
}

async function downloadArchive(code) {
  const res = await api(`/rooms/${encodeURIComponent(code)}/archive`, { raw: true });
  saveBlob(await res.blob(), `examroom-${code}-archive.json`);
}

/** The room is gone (deleted here or elsewhere): back to the rooms, saying what was kept. */
function roomGone(done, here) {
  if (!state.room || state.room.code !== done.code || (!here && current.deleting === done.code)) return;
  state.room = null;
  location.hash = "#/rooms";
  // after the rooms view is shown (it hides the banner when it opens)
  setTimeout(() => showBanner(here ? t("dash.roomadmin.deleted", { code: done.code, reports: done.reports, events: done.events })
    : t("dash.roomadmin.deleted_elsewhere", { code: done.code, by: done.by || "?" })), 50);
}

/* ---------- live updates (the room's stream, relayed by feed.js) ---------- */

window.addEventListener("examroom:enrolment", (ev) => {
  if (!current.code || !state.room || state.room.code !== current.code) return;
  current.enrolment = ev.detail;
  render();
});
window.addEventListener("examroom:room_settings", (ev) => {
  if (!current.code || ev.detail.code !== current.code) return;
  current.settings = ev.detail;
  render();
});
window.addEventListener("examroom:room_deleted", (ev) => roomGone(ev.detail, false));
// the machines against the cap follow the tiles (feed.js has updated state.machines first)
for (const kind of ["machine", "machine_removed"]) {
  window.addEventListener(`examroom:${kind}`, () => { if (current.enrolment) render(); });
}
