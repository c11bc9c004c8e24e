/* examroom dashboard: what gets printed - the readiness sheet (from state.machines) and the
 * draft of the PV d'incident (GET /rooms/{code}/incidents, completed by the supervisor and
 * kept in localStorage per room).
 */
"use strict";

/* ---------- printable readiness sheet and incident report draft ---------- */

function renderSheet() {
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
      el("button", { type: "button", class: "btn btn-primary no-print", id: "print-sheet", text: t("dash.action.print"), onclick: () => { selectTab("sheet"); window.print(); } })),
    el("table", { class: "table sheet-table" },
      el("thead", {}, el("tr", {}, ["dash.sheet.col.host", "dash.sheet.col.os", "dash.sheet.col.verdict", "dash.sheet.col.todo", "dash.sheet.col.report"].map((k) => el("th", { text: t(k) })))),
      el("tbody", {}, machines.map((m) => {
        const v = verdict(m);
        return el("tr", { class: `verdict-${v}`, "data-machine-id": m.machine_id },
          el("td", { class: "host", text: m.hostname }),
          el("td", { text: osText(m) }),
          el("td", { class: "verdict-cell", text: `${VERDICT_ICON[v]} ${t(`dash.verdict.${v}`)}` }),
          el("td", {}, (m.problems || []).length
            ? el("ul", {}, m.problems.map((p) => el("li", {}, el("strong", { text: t("dash.sheet.item", { title: p.title || p.id }) }), " ", p.remediation || p.summary || "")))
            : (v === "none" ? t("dash.sheet.run_check") : "—")),
          el("td", { text: fmtDateTime(m.report_at) }));
      }))),
    el("div", { class: "signatures" },
      el("p", { text: t("dash.sheet.sign_tech") }), el("p", { text: t("dash.sheet.sign_date") })));
}

/* The PV draft: the server's lines plus the supervisor's edits and added lines, kept in
   localStorage per room so that a reload or a refresh loses nothing typed. */
function pvStore(code) {
  try { return JSON.parse(localStorage.getItem(`examroom.pv.${code}`)) || { edits: {}, extra: [] }; }
  catch (_) { return { edits: {}, extra: [] }; }
}

function pvSave(code, store) { localStorage.setItem(`examroom.pv.${code}`, JSON.stringify(store)); }

async function loadIncidents() {
  const box = document.getElementById("tab-incidents");
  const code = state.room.code;
  if (!state.incidents) box.replaceChildren(el("p", { class: "muted", text: t("dash.loading") }));
  try {
    state.incidents = await api(`/rooms/${encodeURIComponent(code)}/incidents?lang=${state.lang}&format=json`);
  } catch (e) {
    if (e.status !== 401) box.replaceChildren(el("p", { class: "form-error", text: e.message }));
    return;
  }
  renderIncidents();
}

function renderIncidents() {
  const box = document.getElementById("tab-incidents");
  const code = state.room.code;
  const store = pvStore(code);
  const rows = state.incidents.map((r) => Object.assign({ key: `${r.at}|${r.machine_id}|${r.kind}` }, r, store.edits[`${r.at}|${r.machine_id}|${r.kind}`] || {}));
  const all = [...rows, ...store.extra.map((r) => Object.assign({ manual: true }, r))];
  const cell = (r, field, cls) => el("td", { class: cls, contenteditable: "true", "data-field": field, text: r[field] || "" });
  const tbody = el("tbody", {}, all.map((r) => el("tr", { "data-key": r.key, "data-code": r.code, class: r.manual ? "manual" : "" },
    r.manual ? cell(r, "time") : el("td", { text: fmtTime(r.at) }),
    r.manual ? cell(r, "hostname") : el("td", { text: r.hostname || r.machine_id }),
    cell(r, "code", "pv-code"), cell(r, "label"), cell(r, "details_text"),
    el("td", { class: "no-print" }, r.manual ? el("button", { type: "button", class: "btn btn-small", text: t("dash.pv.remove"), onclick: () => {
      store.extra = store.extra.filter((x) => x.key !== r.key);
      pvSave(code, store);
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
    pvSave(code, store);
  });
  const add = () => {
    store.extra.push({ key: `manual-${Date.now()}`, time: fmtTime(new Date().toISOString()), hostname: "", code: "", label: "", details_text: "" });
    pvSave(code, store);
    renderIncidents();
  };
  box.replaceChildren(
    el("div", { class: "sheet-head" },
      el("h2", { text: t("dash.pv.title", { name: state.room.name }) }),
      el("p", {}, t("dash.sheet.code", { code }), " · ", t("dash.sheet.printed", { date: fmtDateTime(new Date().toISOString()) })),
      el("p", { class: "muted no-print", text: t("dash.pv.intro") }),
      el("div", { class: "no-print inline" },
        el("button", { type: "button", class: "btn btn-primary", id: "print-pv", text: t("dash.action.print"), onclick: () => window.print() }),
        el("button", { type: "button", class: "btn", id: "pv-csv", text: t("dash.action.export_csv"), onclick: () => pvCsv(code) }),
        el("button", { type: "button", class: "btn", id: "pv-add", text: t("dash.pv.add"), onclick: add }),
        el("button", { type: "button", class: "btn", id: "pv-refresh", text: t("dash.action.refresh"), onclick: loadIncidents }))),
    all.length ? el("table", { class: "table pv-table", id: "pv-table" },
      el("thead", {}, el("tr", {}, ["dash.pv.col.time", "dash.pv.col.host", "dash.pv.col.code", "dash.pv.col.label", "dash.pv.col.details"].map((k) => el("th", { text: t(k) })), el("th", { class: "no-print" }))),
      tbody)
      : el("p", { class: "empty", text: t("dash.pv.none") }),
    el("div", { class: "signatures" },
      el("p", { text: t("dash.pv.sign") }), el("p", { text: t("dash.sheet.sign_date") })));
}

/** The draft as edited, as CSV (BOM and ';' in French, like the server's exports). */
function pvCsv(code) {
  const sep = state.lang === "fr" ? ";" : ",";
  const quote = (v) => `"${String(v ?? "").replace(/"/g, '""')}"`;
  const lines = [["dash.pv.col.time", "dash.pv.col.host", "dash.pv.col.code", "dash.pv.col.label", "dash.pv.col.details"].map((k) => quote(t(k))).join(sep)];
  for (const tr of document.querySelectorAll("#pv-table tbody tr")) {
    lines.push([...tr.cells].slice(0, 5).map((td) => quote(td.textContent.trim())).join(sep));
  }
  const blob = new Blob([(state.lang === "fr" ? "\ufeff" : "") + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
  saveBlob(blob, `examroom-${code}-pv.csv`);
}

function renderAll() {
  renderTiles();
  renderCounters();
  renderFeed();
  renderJournal();
  renderSheet();
}
