/* examroom dashboard: the room-wide bandwidth test (supervisor/routes_bandwidth.py).
   One click orders every enrolled machine to download the same file at the same moment; the
   panel then shows each machine's rate and the room's total against what its candidates need. */
import { api, el, fmtNumber, showBanner, state, t } from "./base.js";

let timer = null;

/** The button of the room's actions bar. */
export function bandwidthButton(code) {
  return el("button", { type: "button", class: "btn", id: "bandwidth-test", text: t("dash.bw.start"),
    onclick: () => startTest(code) });
}

/** The panel under the room's head: the file to download, then the results. */
export function bandwidthPanel(code) {
  return el("details", { class: "bandwidth no-print", id: "bandwidth" },
    el("summary", { text: t("dash.bw.title") }),
    el("p", { class: "small", text: t("dash.bw.intro") }),
    el("label", { class: "small" }, t("dash.bw.url"), " ",
      el("input", { type: "url", id: "bandwidth-url", size: "60", value: localStorage.getItem("examroom.bwurl") || "" })),
    el("p", { id: "bandwidth-status", "aria-live": "polite" }),
    el("table", { id: "bandwidth-table", class: "bandwidth-table" },
      el("thead", {}, el("tr", {}, el("th", { text: t("dash.bw.machine") }), el("th", { text: t("dash.bw.rate") }),
        el("th", { text: t("dash.bw.note") }))),
      el("tbody", { id: "bandwidth-rows" })),
    el("p", { id: "bandwidth-total", class: "bandwidth-total" }));
}

async function startTest(code) {
  const panel = document.getElementById("bandwidth");
  if (panel) panel.open = true;
  const input = document.getElementById("bandwidth-url");
  let url = input && input.value.trim();
  try {
    if (!url) {
      url = (await api(`/rooms/${encodeURIComponent(code)}/bandwidth-test`)).default_url;
      if (input) input.value = url;
    }
    localStorage.setItem("examroom.bwurl", url);
    const order = await api(`/rooms/${encodeURIComponent(code)}/bandwidth-test`, { method: "POST", json: { url } });
    const until = Date.now() + (order.starts_in_s + order.seconds + 20) * 1000;
    poll(code, order.id, until);
  } catch (err) {
    showBanner(err.message);
  }
}

function poll(code, id, until) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (!state.room || state.room.code !== code) return;  // the supervisor left the room
    try {
      const found = await api(`/rooms/${encodeURIComponent(code)}/bandwidth-test`);
      render(found);
      const done = found.test && found.test.id === id && found.test.phase === "done" && found.test.answered >= found.candidates;
      if (!done && Date.now() < until) poll(code, id, until);
    } catch (err) {
      showBanner(err.message);
    }
  }, 700);
}

function render(found) {
  const status = document.getElementById("bandwidth-status");
  const rows = document.getElementById("bandwidth-rows");
  const total = document.getElementById("bandwidth-total");
  if (!status || !found.test) return;
  status.textContent = t(`dash.bw.phase.${found.test.phase}`, { answered: found.test.answered, candidates: found.candidates });
  const seen = {};
  for (const m of found.machines) seen[m.hostname] = (seen[m.hostname] || 0) + 1;
  rows.replaceChildren(...found.machines.map((m) => el("tr", { "data-machine": m.machine_id },
    // two machines of one name (a cloned image): their ids tell them apart
    el("td", { text: seen[m.hostname] > 1 ? `${m.hostname} · ${m.machine_id}` : m.hostname }),
    el("td", { class: "num", text: m.mbps === null ? "—" : `${fmtNumber(m.mbps, 1)} Mbit/s` }),
    el("td", { text: m.reason === "ok" ? "" : `${m.reason} ${m.detail || ""}`.trim() }))));
  total.textContent = t("dash.bw.total", {
    total: fmtNumber(found.total_mbps || 0, 1), candidates: found.candidates, need: fmtNumber(found.need_mbps, 1),
    per: fmtNumber(found.per_candidate_mbps, 2), serves: found.serves });
  total.classList.toggle("short", found.serves < found.candidates);
}
