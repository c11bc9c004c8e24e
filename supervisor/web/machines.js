/* examroom dashboard: what an admin or a technician does to a machine from its tile - revoke it
 * (its token is dead at once; it can send nothing and not enrol again until removed) or remove
 * it from the room (its tile goes, its id is free again; what it sent stays in the journal and
 * the PV d'incident). Both ask first (confirm.js). A revoked tile says so ("révoquée").
 *
 * Reads state.me (accounts.js: the caller's role) and the machine row's `revoked` fields;
 * calls POST /rooms/{code}/machines/{id}/revoke and DELETE /rooms/{code}/machines/{id}. The
 * server publishes the change on the room's stream (machine / machine_removed), which every
 * open dashboard follows.
 */
import { api, el, fmtDateTime, machineName, showBanner, state, t } from "./base.js";
import { askConfirm } from "./confirm.js";

/** May the caller revoke and remove machines? (The server checks again: admin, technician.) */
export function managesMachines() {
  return !!state.me && (state.me.role === "admin" || state.me.role === "technician");
}

/** The "révoquée" badge of a revoked machine's tile (null otherwise). */
export function revokedBadge(m) {
  if (!m.revoked) return null;
  return el("p", { class: "revoked-badge", role: "status", "data-revoked": "true",
    title: m.revoked_at ? fmtDateTime(m.revoked_at) : null,
    text: `⊘ ${t("dash.machine.revoked", { by: m.revoked_by || "?" })}` });
}

/** The tile's action buttons (null for a role that cannot use them). */
export function machineActions(m) {
  if (!managesMachines()) return null;
  const name = machineName(m.machine_id, m.hostname);
  return el("div", { class: "machine-actions no-print" },
    m.revoked ? null : el("button", { type: "button", class: "btn btn-small btn-danger-ghost machine-revoke",
      text: t("dash.machine.revoke"), onclick: () => revoke(m, name) }),
    el("button", { type: "button", class: "btn btn-small btn-danger-ghost machine-remove",
      text: t("dash.machine.remove"), onclick: () => remove(m, name) }));
}

function path(m) {
  return `/rooms/${encodeURIComponent(state.room.code)}/machines/${encodeURIComponent(m.machine_id)}`;
}

async function revoke(m, name) {
  const ok = await askConfirm({ title: t("dash.machine.revoke_title", { name }), text: t("dash.machine.revoke_text"),
    ok: t("dash.machine.revoke") });
  if (!ok) return;
  try {
    await api(`${path(m)}/revoke`, { method: "POST" });
  } catch (e) {
    if (e.status !== 401) showBanner(e.message);
  }
}

async function remove(m, name) {
  const ok = await askConfirm({ title: t("dash.machine.remove_title", { name }), text: t("dash.machine.remove_text"),
    ok: t("dash.machine.remove") });
  if (!ok) return;
  try {
    await api(path(m), { method: "DELETE" });
  } catch (e) {
    if (e.status !== 401) showBanner(e.message);
  }
}
