/* examroom dashboard: what gets printed - the readiness sheet (from state.machines). The
 * draft of the PV d'incident is in pv.js.
 */
import { el, fmtDateTime, machineName, state, t } from "./base.js";
import { checkTitle, osText, sortedMachines, verdict, VERDICT_ICON } from "./room.js";

/* ---------- printable readiness sheet and incident report draft ---------- */

export function renderSheet() {
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
      el("button", { type: "button", class: "btn btn-primary no-print", id: "print-sheet", text: t("dash.action.print"), onclick: () => window.print() })),
    el("table", { class: "table sheet-table" },
      el("thead", {}, el("tr", {}, ["dash.sheet.col.host", "dash.sheet.col.os", "dash.sheet.col.verdict", "dash.sheet.col.todo", "dash.sheet.col.report"].map((k) => el("th", { text: t(k) })))),
      el("tbody", {}, machines.map((m) => {
        const v = verdict(m);
        return el("tr", { class: `verdict-${v}`, "data-machine-id": m.machine_id },
          el("td", { class: "host", text: machineName(m.machine_id, m.hostname) }),
          el("td", { text: osText(m) }),
          el("td", { class: "verdict-cell", text: `${VERDICT_ICON[v]} ${t(`dash.verdict.${v}`)}` }),
          el("td", {}, (m.problems || []).length
            ? el("ul", {}, m.problems.map((p) => el("li", {}, el("strong", { text: t("dash.sheet.item", { title: checkTitle(p) }) }), " ", p.remediation || p.summary || "")))
            : (v === "none" ? t("dash.sheet.run_check") : "—")),
          el("td", { text: fmtDateTime(m.report_at) }));
      }))),
    el("div", { class: "signatures" },
      el("p", { text: t("dash.sheet.sign_tech") }), el("p", { text: t("dash.sheet.sign_date") })));
}
