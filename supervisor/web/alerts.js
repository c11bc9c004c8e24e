/* examroom dashboard: the room's alerts, grouped per machine, kind and subject (the program or
 * host they are about). Reads GET /rooms/{code}/alert-groups (pages of groups, the newest
 * first; "older" asks the server for the next page), GET /rooms/{code}/alert-groups/{gid}/alerts
 * (a group's alerts, on demand, paged the same way) and the stream's "group" messages (a group's
 * new count and last alert, updated in place: 5,000 repeats stay one line); acknowledges a
 * group with POST /rooms/{code}/alert-groups/{gid}/ack?upto=SEQ (what the supervisor saw: an
 * alert arriving meanwhile stays open).
 *
 * How a kind and its details read comes from feed.js (the journal's words), passed in `words`.
 */
import { api, el, fmtTime, machineName, showBanner, state, t } from "./base.js";

const GROUP_PAGE = 50;
const ALERT_PAGE = 20;

/* What redraws the list once a page arrives (feed.js's renderFeed, given by onChange). */
let rerender = () => {};

export function onChange(fn) {
  rerender = fn;
}

function roomPath() {
  return `/rooms/${encodeURIComponent(state.room.code)}`;
}

/** The alerts panel's state, reset with the room (state.alertGroups). */
function groupsState() {
  if (!state.alertGroups) state.alertGroups = { groups: new Map(), next: null, expanded: new Map(), loading: false };
  return state.alertGroups;
}

/** The first page of groups (on each (re)connection, and when "show acknowledged" changes). */
export async function loadGroups() {
  const query = `limit=${GROUP_PAGE}${state.showAcked ? "" : "&open=true"}`;
  const page = await api(`${roomPath()}/alert-groups?${query}`);
  const gs = groupsState();
  gs.groups = new Map(page.groups.map((g) => [g.gid, g]));
  gs.next = page.next;
  for (const gid of gs.expanded.keys()) if (gs.groups.has(gid)) loadGroupAlerts(gid, false);
  mirrorAlerts();
}

async function loadOlder() {
  const gs = groupsState();
  if (gs.next === null || gs.loading) return;
  gs.loading = true;
  try {
    const page = await api(`${roomPath()}/alert-groups?limit=${GROUP_PAGE}&before=${gs.next}${state.showAcked ? "" : "&open=true"}`);
    for (const g of page.groups) if (!gs.groups.has(g.gid)) gs.groups.set(g.gid, g);
    gs.next = page.next;
    mirrorAlerts();
  } catch (e) { if (e.status !== 401) showBanner(e.message); } finally { gs.loading = false; }
  rerender();
}

/** A group's newest alerts (first page), or the next older ones (more). */
async function loadGroupAlerts(gid, more) {
  const gs = groupsState();
  const box = gs.expanded.get(gid) || { alerts: [], next: null };
  gs.expanded.set(gid, box);
  const before = more && box.next !== null ? `&before=${box.next}` : "";
  // again from the newest (the group changed): as many as were shown, so the list keeps its length
  const limit = more ? ALERT_PAGE : Math.min(500, Math.max(ALERT_PAGE, box.alerts.length));
  try {
    const page = await api(`${roomPath()}/alert-groups/${gid}/alerts?limit=${limit}${before}`);
    if (!gs.expanded.has(gid)) return;
    if (more) {
      const known = new Set(box.alerts.map((a) => a.id));
      box.alerts = box.alerts.concat(page.alerts.filter((a) => !known.has(a.id)));
    } else {
      box.alerts = page.alerts;
    }
    box.next = page.next;
  } catch (e) { if (e.status !== 401) showBanner(e.message); }
  rerender();
}

function toggle(gid) {
  const gs = groupsState();
  if (gs.expanded.has(gid)) { gs.expanded.delete(gid); rerender(); return; }
  loadGroupAlerts(gid, false);
}

/** A group row from the stream (new alerts, an acknowledgement): replaces the known one. A
 * group older than the pages loaded is not pulled in (unless it has a new alert: then it is
 * the newest); with "show acknowledged" off, a group with nothing open leaves the list. */
export function onGroup(g) {
  if (state.during) state.during.groups.set(g.gid, g);
  const gs = groupsState();
  const known = gs.groups.get(g.gid);
  if (known && known.last_seq > g.last_seq) return;  // an older message than what we have
  const inRange = known || gs.next === null || g.last_seq > gs.next;
  if (!state.showAcked && !g.open) gs.groups.delete(g.gid);
  else if (inRange) gs.groups.set(g.gid, g);
  if (gs.expanded.has(g.gid) && (!known || known.last_seq !== g.last_seq || known.open !== g.open)) loadGroupAlerts(g.gid, false);
  mirrorAlerts();
}

/** state.alerts keeps each group's latest alert (the tiles read when an absence began). */
function mirrorAlerts() {
  const alerts = new Map();
  for (const g of groupsState().groups.values()) {
    alerts.set(g.last_id, { id: g.last_id, seq: g.last_seq, kind: g.kind, at: g.last_at, at_corrected: g.last_at_corrected,
      machine_id: g.machine_id, hostname: g.hostname, details: g.last_details, acked_at: g.open ? null : g.acked_at });
  }
  state.alerts = alerts;
}

export function sortedGroups() {
  return [...groupsState().groups.values()].sort((a, b) => b.last_seq - a.last_seq);
}

export async function ackGroup(g) {
  // Keyboard users keep their place: focus goes to the next group's button, else the heading.
  const li = document.querySelector(`.alert[data-gid="${g.gid}"]`);
  const hadFocus = li && li.contains(document.activeElement);
  const next = li && li.nextElementSibling && li.nextElementSibling.dataset.gid;
  try {
    const res = await api(`${roomPath()}/alert-groups/${g.gid}/ack?upto=${g.last_seq}`, { method: "POST" });
    onGroup(res.group);
  } catch (e) { if (e.status !== 401) showBanner(e.message); return; }
  rerender();
  if (hadFocus) {
    const target = next && document.querySelector(`.alert[data-gid="${next}"] button.ack`);
    (target || document.getElementById("feed-title")).focus();
  }
}

/** After a network blip every companion may be "lost" at once: one click for all the groups shown. */
export async function ackAllGroups() {
  const open = sortedGroups().filter((g) => g.open);
  const n = open.reduce((sum, g) => sum + g.open, 0);
  if (!open.length || !window.confirm(t("dash.alerts.ack_all_confirm", { n }))) return;
  for (const g of open) await ackGroup(g);
}

/** A single alert acknowledged (the stream's "ack"): the expanded list shows it at once. */
export function onAlertAck(res) {
  for (const box of groupsState().expanded.values()) {
    const a = box.alerts.find((x) => x.id === res.id);
    if (a) { a.acked_at = res.acked_at; a.acked_by = res.acked_by; }
  }
}

function timeEl(at, corrected) {
  return el("time", { datetime: corrected || at, title: corrected && corrected !== at ? t("dash.time.machine", { time: fmtTime(at) }) : null,
    text: fmtTime(corrected || at) });
}

function count(n) {
  return Number(n).toLocaleString(state.lang === "fr" ? "fr-FR" : "en-GB");
}

function groupItem(g, words) {
  const gs = groupsState();
  const detail = words.detailText(g.kind, g.last_details);
  const expanded = gs.expanded.get(g.gid);
  const subject = g.subject && !detail.includes(g.subject) ? g.subject : "";
  return el("li", { class: `alert alert-group kind-${g.kind} ${g.open ? "open" : "acked"}`, "data-alert-id": g.last_id,
    "data-kind": g.kind, "data-gid": String(g.gid), "data-count": String(g.count), "data-open": String(g.open) },
    el("div", { class: "alert-head" },
      el("strong", { class: "alert-kind", text: `${g.open ? "⚠" : "✔"} ${words.kindLabel(g.kind, g.last_details)}` }),
      g.count > 1 ? el("span", { class: "alert-count", title: t("dash.groups.times", { n: count(g.count) }), text: `×${count(g.count)}` }) : null,
      timeEl(g.last_at, g.last_at_corrected)),
    el("div", { class: "alert-host", text: machineName(g.machine_id, g.hostname) }),
    subject ? el("div", { class: "alert-subject", text: subject }) : null,
    detail ? el("div", { class: "alert-detail", text: detail }) : null,
    g.count > 1 ? el("div", { class: "alert-span small", text: t("dash.groups.span", { n: count(g.count),
      first: fmtTime(g.first_at_corrected || g.first_at), last: fmtTime(g.last_at_corrected || g.last_at) }) }) : null,
    !g.open && g.acked_at ? el("div", { class: "acked-by", text: t("dash.alerts.acked_by", { time: fmtTime(g.acked_at), who: g.acked_by || "" }) }) : null,
    el("div", { class: "alert-actions" },
      g.open ? el("button", { type: "button", class: "btn btn-small ack",
        text: g.open > 1 ? t("dash.groups.ack_n", { n: count(g.open) }) : t("dash.alerts.ack"), onclick: () => ackGroup(g) }) : null,
      g.count > 1 ? el("button", { type: "button", class: "btn btn-small expand", "aria-expanded": String(!!expanded),
        text: expanded ? t("dash.groups.hide") : t("dash.groups.show", { n: count(g.count) }), onclick: () => toggle(g.gid) }) : null),
    expanded ? groupAlerts(g, expanded, words) : null);
}

function groupAlerts(g, box, words) {
  return el("ol", { class: "group-alerts" },
    ...box.alerts.map((a) => el("li", { class: `group-alert ${a.acked_at ? "acked" : "open"}`, "data-event-id": a.id },
      timeEl(a.at, a.at_corrected), " ", words.detailText(a.kind, a.details) || words.kindLabel(a.kind, a.details),
      a.acked_at ? el("span", { class: "small", text: ` — ${t("dash.alerts.acked_by", { time: fmtTime(a.acked_at), who: a.acked_by || "" })}` }) : null)),
    box.next !== null ? el("li", { class: "more" }, el("button", { type: "button", class: "btn btn-small group-older",
      text: t("dash.groups.older"), onclick: () => loadGroupAlerts(g.gid, true) })) : null);
}

/** The list: one line per group, the newest first, and "older" while the server has more. */
export function renderGroups(list, words) {
  const gs = groupsState();
  const groups = sortedGroups();
  const ackAll = document.getElementById("ack-all");
  if (ackAll) ackAll.hidden = groups.reduce((n, g) => n + g.open, 0) < 2;
  if (!groups.length && gs.next === null) {
    list.replaceChildren(el("li", { class: "empty", text: t("dash.alerts.none") }));
    return;
  }
  list.replaceChildren(...groups.map((g) => groupItem(g, words)));
  if (gs.next !== null) {
    list.append(el("li", { class: "more" }, el("button", { type: "button", class: "btn btn-small", id: "alerts-older",
      text: t("dash.groups.older"), onclick: loadOlder })));
  }
}
