/* examroom dashboard: the room's machines - one tile per machine, the counters, and a
 * machine's full report in a dialog. Reads state.machines (rows of GET /rooms/{code}/machines,
 * kept up to date by feed.js) and GET /rooms/{code}/machines/{id}/report. The room page
 * around them (header, tabs) is built by app.js from its table of views.
 */
import { api, el, own, fmtAge, fmtDateTime, fmtNumber, fmtTime, machineName, showBanner, state, t } from "./base.js";
import { kindSpec } from "./feed.js";
import { machineActions, revokedBadge } from "./machines.js";

/* ---------- machines and tiles ---------- */

/** ready | warn | not_ready | none: the tile's colour AND its words. */
export function verdict(m) {
  if (!m.report_status && !m.report_at) return "none";
  if (!m.ready) return "not_ready";
  return m.report_status === "warn" ? "warn" : "ready";
}

/** A check's title in the dashboard's language (GET /i18n gives check.<id>.title); the
    report's own title (in the agent's language) for a check this server does not know. */
export function checkTitle(c) {
  const key = `check.${c.id}.title`;
  return Object.prototype.hasOwnProperty.call(state.texts, key) ? t(key) : (c.title || c.id);
}

export const VERDICT_ICON = { ready: "✔", warn: "⚠", not_ready: "✖", none: "…" };
export const STATUS_ICON = { ok: "✔", warn: "⚠", fail: "✖", error: "✖", skip: "–" };

export function sortedMachines() {
  const coll = new Intl.Collator(state.lang, { numeric: true, sensitivity: "base" });
  return [...state.machines.values()].sort((a, b) => coll.compare(a.hostname || "", b.hostname || "") || (a.machine_id < b.machine_id ? -1 : 1));
}

const OS_NAMES = { windows: "Windows", linux: "Linux", macos: "macOS" };

export function osText(m) {
  return [own(OS_NAMES, m.os) || m.os, m.os_version].filter(Boolean).join(" ");
}

export function facts(m) {
  const f = m.facts || {};
  const out = [];
  const os = osText(m);
  if (os) out.push(os);
  if (f.cpu_count) out.push(t("dash.fact.cpu", { n: fmtNumber(f.cpu_count) }));
  if (f.ram_gb) out.push(t("dash.fact.ram", { gb: fmtNumber(f.ram_gb, 1) }));
  if (f.screen_px || f.screen_width) out.push(t("dash.fact.screen", { px: fmtNumber(f.screen_px || f.screen_width) }));
  if (f.virtual_machine) out.push(t("dash.fact.vm", { name: f.virtual_machine }));
  if (f.remote_session) out.push(t("dash.fact.remote", { kind: f.remote_session }));
  return out;
}

/** What is wrong right now during the session, worst first (shown in the tile's alarm strip). */
function liveAlarms(m) {
  const out = [];
  // A lost companion's focus/network/programs are only its last word: not alarms by themselves.
  if (m.live === "lost") return [t(m.stopped ? "dash.live.alarm.stopped" : "dash.live.alarm.lost")];
  // Away somewhere the rules allow (a tool, a search) or do not know: the tile says it, no alarm.
  if (m.focus === "away" && (m.focus_level || "alert") === "alert") out.push(m.focus_label || m.focus_title ? t("dash.live.alarm.away_title", { title: m.focus_label || m.focus_title }) : t("dash.live.alarm.away"));
  for (const [flag, level] of Object.entries(m.flags || {})) if (level === "alert") out.push(t(`dash.flag.${flag}`));
  if (m.forbidden && m.forbidden.length) out.push(t("dash.live.alarm.forbidden", { names: m.forbidden.join(", ") }));
  if (m.net === "down") out.push(t("dash.live.alarm.net"));
  return out;
}

function liveBlock(m) {
  const rows = [];
  const live = liveState(m);
  const liveIcon = LIVE_ICON[live] || "○";
  rows.push(el("li", { class: `live-${live}`, "data-live": live },
    el("span", { class: "k", text: t("dash.live.companion") }),
    el("span", { class: "v" }, `${liveIcon} ${t(`dash.live.${live}`)}`,
      (live === "lost" || live === "stopped") && m.last_seen ? el("span", { class: "muted last-seen" }, " · ", t("dash.live.last_signal"), " ",
        el("time", { "data-age": m.last_seen, datetime: m.last_seen, title: fmtDateTime(m.last_seen), text: fmtAge(m.last_seen) })) : null)));
  if ((live === "lost" || live === "stopped") && (m.focus || m.net || (m.forbidden && m.forbidden.length))) {
    rows.push(el("li", { class: "stale-note", text: t("dash.live.stale") }));
  }
  if (m.focus) {
    // away somewhere allowed (journal) or unknown (notice) is not shown as an alarm
    rows.push(el("li", { class: `focus-${m.focus}${m.focus === "away" ? ` level-${m.focus_level || "alert"}` : ""}`, "data-focus": m.focus },
      el("span", { class: "k", text: t("dash.live.focus") }),
      el("span", { class: "v" },
        m.focus === "exam" ? `✔ ${t("dash.live.focus_exam")}` : `${(m.focus_level || "alert") === "alert" ? "⚠" : "•"} ${t("dash.live.focus_away")}`,
        m.focus === "away" && m.focus_category ? el("span", { class: `focus-category level-${m.focus_level || "alert"}`, "data-category": m.focus_category, text: ` ${t(`dash.category.${m.focus_category}`)}` }) : null,
        m.focus === "away" && m.focus_label ? el("strong", { class: "focus-label", text: ` ${m.focus_label}` }) : null,
        m.focus_required ? el("span", { class: "focus-required", title: t("dash.live.focus_required.title"), text: ` ${t("dash.live.focus_required")}` }) : null,
        m.focus === "away" && m.focus_title ? el("q", { class: "win-title", text: m.focus_title }) : null,
        m.focus === "away" && awaySince(m) ? el("span", { class: "muted away-since" }, "(", el("time", { "data-age": awaySince(m), datetime: awaySince(m), text: fmtAge(awaySince(m)) }), ")") : null)));
  }
  for (const [flag, level] of Object.entries(m.flags || {})) {
    // e.g. "extension absente": a notice; "extension muette pendant l'épreuve": an alert
    rows.push(el("li", { class: `flag level-${level}`, "data-flag": flag, "data-level": level },
      el("span", { class: "k", text: t(`dash.flag.${flag}.label`) }),
      el("span", { class: "v", text: `${level === "alert" ? "⚠" : "•"} ${t(`dash.flag.${flag}.${level}`)}` })));
  }
  if (m.net) {
    rows.push(el("li", { class: `net-${m.net}`, "data-net": m.net },
      el("span", { class: "k", text: t("dash.live.net") }),
      el("span", { class: "v", text: m.net === "up" ? `✔ ${t("dash.live.net_up")}` : `✖ ${t("dash.live.net_down")}` })));
  }
  if (m.exam) {
    // What the exam page told the companion: when this candidate's test started or ended.
    rows.push(el("li", { class: `exam-${m.exam}`, "data-exam": m.exam },
      el("span", { class: "k", text: t("dash.live.exam") }),
      el("span", { class: "v" }, el("time", { datetime: m.exam_at || "", title: fmtDateTime(m.exam_at),
        text: t(m.exam === "started" ? "dash.live.exam_started" : "dash.live.exam_ended", { time: fmtTime(m.exam_at) }) }))));
  }
  if (m.forbidden && m.forbidden.length) {
    rows.push(el("li", { class: "forbidden" },
      el("span", { class: "k", text: t("dash.live.forbidden") }),
      el("span", { class: "v", text: `✖ ${m.forbidden.join(", ")}` })));
  }
  return el("ul", { class: live === "lost" ? "live stale" : "live" }, rows);
}

/** When the current absence began: the machine's latest departure we know of (a kind whose
 * tile effect is focus_away and that another kind closes, i.e. focus_lost, not a move while
 * away), on the server's clock. */
function awaySince(m) {
  let at = null;
  const closed = new Set(Object.values((state.kinds || {}).kinds || {})
    .flatMap((k) => [k.closes, ...(k.variant || []).map((v) => v.closes)]).filter(Boolean));
  const away = (e) => e.machine_id === m.machine_id && closed.has(e.kind) && kindSpec(e.kind, e.details).tile === "focus_away";
  for (const e of [...state.alerts.values(), ...state.events]) {
    const when = e.at_corrected || e.at;
    if (away(e) && (!at || when > at)) at = when;
  }
  return at;
}

const LIVE_ICON = { online: "●", lost: "✖", stopped: "■", never: "○" };

/** online, lost, never, or stopped: a companion stopped on purpose (companion_stopped) reads
 * "stopped", as the journal says, not "lost". */
function liveState(m) {
  return m.live === "lost" && m.stopped ? "stopped" : (m.live || "never");
}

/** The same live state on one line, for the compact view. */
function liveLine(m) {
  const live = liveState(m);
  const chips = [el("span", { class: `chip live-${live}`, text: `${LIVE_ICON[live] || "○"} ${t(`dash.live.${live}`)}` })];
  if (m.focus) chips.push(el("span", { class: `chip focus-${m.focus}`, text: m.focus === "exam" ? `✔ ${t("dash.live.short.exam")}` : `⚠ ${t("dash.live.short.away")}` }));
  if (m.exam) chips.push(el("span", { class: `chip exam-${m.exam}`, text: t(m.exam === "started" ? "dash.live.short.exam_started" : "dash.live.short.exam_ended", { time: fmtTime(m.exam_at) }) }));
  if (m.net) chips.push(el("span", { class: `chip net-${m.net}`, text: m.net === "up" ? `✔ ${t("dash.live.short.net_up")}` : `✖ ${t("dash.live.short.net_down")}` }));
  return el("p", { class: live === "lost" || live === "stopped" ? "live-line stale" : "live-line" }, chips);
}

export function renderTile(m) {
  const v = verdict(m);
  const alarms = liveAlarms(m);
  const problems = m.problems || [];
  const id = m.machine_id;
  const details = problems.length ? el("details", { class: "problems", open: state.openDetails.has(id) || (v === "not_ready" && !state.openDetails.has("closed:" + id)) },
    el("summary", { text: t(problems.length === 1 ? "dash.tile.problems_one" : "dash.tile.problems", { n: problems.length }) }),
    el("ul", {}, problems.map((p) => el("li", { class: `problem status-${p.status}`, "data-check": p.id },
      el("div", { class: "problem-head" },
        el("span", { class: `badge status-${p.status}`, text: `${own(STATUS_ICON, p.status) || ""} ${t(`dash.status.${p.status}`)}` }),
        el("strong", { class: "check-title", text: checkTitle(p) })),
      p.summary ? el("p", { class: "summary", text: p.summary }) : null,
      p.remediation ? el("p", { class: "remediation" }, el("span", { class: "todo", text: t("dash.tile.todo") }), " ", p.remediation) : null)))) : null;
  if (details) {
    details.addEventListener("toggle", () => {
      if (details.open) { state.openDetails.add(id); state.openDetails.delete("closed:" + id); }
      else { state.openDetails.delete(id); state.openDetails.add("closed:" + id); }
    });
  }
  return el("article", { class: `tile verdict-${v}${alarms.length ? " alarm" : ""}${m.revoked ? " revoked" : ""}`, "data-machine-id": id, "data-verdict": v, "data-hostname": m.hostname },
    el("header", { class: "tile-head" },
      el("h3", { class: "hostname", text: machineName(id, m.hostname) }),
      el("span", { class: "verdict", text: `${VERDICT_ICON[v]} ${t(`dash.verdict.${v}`)}` })),
    revokedBadge(m),
    alarms.length ? el("div", { class: "alarm-strip", role: "alert" }, el("strong", { text: t("dash.live.alarm") }), " ", alarms.join(" · ")) : null,
    liveBlock(m),
    liveLine(m),
    (m.alerts || 0) > 0 ? el("p", { class: "tile-alerts", text: `⚑ ${t(m.alerts === 1 ? "dash.tile.alerts_one" : "dash.tile.alerts", { n: m.alerts })}` }) : null,
    details,
    el("footer", { class: "tile-foot" },
      m.report_at ? el("span", {}, t("dash.tile.report"), " ", el("time", { "data-age": m.report_at, datetime: m.report_at, title: fmtDateTime(m.report_at), text: fmtAge(m.report_at) }),
        " · ", el("button", { type: "button", class: "linkish open-report", text: t("dash.tile.full_report"), onclick: () => showReport(m) }))
        : el("span", { text: t("dash.tile.no_report") }),
      el("span", { class: "facts", text: facts(m).join(" · ") })),
    machineActions(m));
}

export function renderTiles() {
  const box = document.getElementById("tiles");
  if (!box) return;
  const machines = sortedMachines();
  if (!machines.length) {
    box.replaceChildren(el("p", { class: "empty", text: t("dash.room.empty") }));
    return;
  }
  box.replaceChildren(...machines.map(renderTile));
}

export function upsertMachine(m) {
  const before = state.machines.get(m.machine_id);
  state.machines.set(m.machine_id, m);
  if (state.during) state.during.machines.set(m.machine_id, m);
  const box = document.getElementById("tiles");
  if (!box) return;
  const old = box.querySelector(`[data-machine-id="${CSS.escape(m.machine_id)}"]`);
  // a new host name may change its twins' names too (machineName): then every tile is redrawn
  if (old && state.machines.size > 1 && before && before.hostname === m.hostname) old.replaceWith(renderTile(m));
  else renderTiles();
  renderCounters();
}

/** A machine removed from the room: its tile goes (its events stay in the journal). */
export function removeMachine(id) {
  state.machines.delete(id);
  if (state.during) state.during.machines.delete(id);
  renderTiles();
  renderCounters();
}

export function renderCounters() {
  const box = document.getElementById("counters");
  if (!box) return;
  const machines = [...state.machines.values()];
  const ready = machines.filter((m) => verdict(m) === "ready" || verdict(m) === "warn").length;
  const online = machines.filter((m) => m.live === "online").length;
  // open alerts as the server counts them (alert groups: the list shows groups, not alerts)
  const open = machines.reduce((n, m) => n + (Number(m.alerts) || 0), 0);
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
    const reasonKey = `reason.${item.reason}`;   // one name per reason, as the crash test's
    const reason = Object.prototype.hasOwnProperty.call(state.texts, reasonKey) ? t(reasonKey) : item.reason;
    const extra = [item.reason && item.reason !== "ok" ? reason : null,
      item.http_status ? `HTTP ${item.http_status}` : null,
      item.latency_ms != null ? `${fmtNumber(item.latency_ms)} ms` : null].filter(Boolean).join(", ");
    return extra ? `${item.url} (${extra})` : item.url;
  }
  return [item.name, item.version, item.detail ? `– ${item.detail}` : null].filter(Boolean).join(" ");
}

export async function showReport(m) {
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
  const checks = [...(report.checks || [])].sort((a, b) => (own(order, a.status) ?? 5) - (own(order, b.status) ?? 5));
  const close = el("button", { type: "button", class: "btn", id: "report-close", text: t("dash.action.close") });
  const dialog = el("dialog", { id: "report-dialog", class: "report-dialog", "aria-labelledby": "report-title" },
    el("header", { class: "dialog-head" },
      el("h2", { id: "report-title", text: t("dash.report.title", { host: machineName(m.machine_id, machine.hostname || m.hostname) }) }),
      close),
    el("p", { class: `verdict-line verdict-${v}`, text: `${VERDICT_ICON[v]} ${t(`dash.verdict.${v}`)}` }),
    el("p", { class: "muted", text: [t("dash.report.when", { date: fmtDateTime(report.finished_at) }),
      osText({ os: machine.os, os_version: machine.os_version }), machine.arch, ...facts({ facts: machine }),
      report.agent_version ? `examroom ${report.agent_version}` : null].filter(Boolean).join(" · ") }),
    el("table", { class: "table report-table" },
      el("thead", {}, el("tr", {}, ["dash.report.col.check", "dash.report.col.status", "dash.report.col.result"].map((k) => el("th", { text: t(k) })))),
      el("tbody", {}, checks.map((c) => el("tr", { class: `status-${c.status}`, "data-check": c.id },
        el("td", {}, el("strong", { class: "check-title", text: checkTitle(c) })),
        el("td", {}, el("span", { class: `badge status-${c.status}`, text: `${own(STATUS_ICON, c.status) || ""} ${t(`dash.status.${c.status}`)}` })),
        el("td", {},
          el("div", { text: c.summary || "" }),
          c.measured != null ? el("div", { class: "muted", text: t("dash.report.measured", { value: fmtNumber(c.measured, 1), threshold: c.threshold != null ? fmtNumber(c.threshold, 1) : "–", unit: c.unit || "" }) }) : null,
          c.remediation && c.status !== "ok" ? el("div", { class: "remediation" }, el("span", { class: "todo", text: t("dash.tile.todo") }), " ", c.remediation) : null,
          (c.items || []).length ? el("details", {}, el("summary", { text: t("dash.report.items", { n: c.items.length }) }),
            el("ul", { class: "items" }, c.items.map((i) => el("li", { class: `status-${i.status || "ok"}` }, `${own(STATUS_ICON, i.status) || ""} `, itemText(i))))) : null))))));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  document.getElementById("report-dialog")?.remove();
  document.body.append(dialog);
  dialog.showModal();
}
