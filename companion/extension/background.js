// examroom companion extension: background (a service worker in Chromium, an event page in
// Firefox; the same file). It tells the examroom companion on this machine, through native
// messaging (host "org.examroom.companion"), where the candidate is in this browser:
// - which window has the focus (-1: the browser lost it to another program),
// - the active tab's scheme, host and port (never the path, the query nor the page),
// - tabs opened and closed, DevTools opened and closed on a tab,
// - the exam platform's own phase messages, and whether its question requires focus, relayed
//   by content.js,
// - a heartbeat every second, so that a disabled extension or a closed browser is seen.
// Why native messaging and not the companion's loopback HTTP endpoint: see
// companion/extchannel.py (any local program can forge an Origin header; only a browser
// launches a native host, with the extension's id as argument).
"use strict";

const api = globalThis.browser ?? globalThis.chrome;
const HOST = "org.examroom.companion";
const HEARTBEAT_MS = 1000;
const RETRY_MAX_MS = 5000;
const NO_WINDOW = api.windows.WINDOW_ID_NONE;

let port = null;
let retryMs = 250;
let heartbeat = null;
let focusedWindow = NO_WINDOW;
let seq = 0;
const tabHosts = new Map();     // tab id -> last place sent, for tab_closed

// What may leave the browser about a URL: its scheme, host and port, and whether it is a PDF
// (Chromium's PDF viewer shows the file's own URL). Never the path, the query or the title.
function place(url) {
  try {
    const u = new URL(url);
    return {scheme: u.protocol.replace(/:$/, ""), host: u.hostname, port: u.port,
            pdf: /\.pdf$/i.test(u.pathname)};
  } catch (e) {
    return {scheme: "", host: "", port: "", pdf: false};
  }
}

function send(message) {
  if (port === null) return;
  message.seq = ++seq;
  message.at = Date.now();
  try {
    port.postMessage(message);
  } catch (e) {
    port = null;
  }
}

async function sendActive(reason) {
  let tab = null;
  if (focusedWindow !== NO_WINDOW) {
    try {
      [tab] = await api.tabs.query({active: true, windowId: focusedWindow});
    } catch (e) {
      tab = null;
    }
  }
  const where = tab ? place(tab.pendingUrl || tab.url || "") : {scheme: "", host: "", port: "", pdf: false};
  send({type: "active", reason, window: focusedWindow, tab: tab ? tab.id : null,
        incognito: tab ? tab.incognito : false, ...where});
}

// The heartbeat also checks which window has the focus: a focus change the browser did not
// report (seen when a window is raised by the window manager while the browser believed it
// was already in front) is corrected within a second.
async function beat() {
  send({type: "heartbeat"});
  try {
    const win = await api.windows.getLastFocused({});
    const now = win && win.focused ? win.id : NO_WINDOW;
    if (now !== focusedWindow) {
      focusedWindow = now;
      sendActive("heartbeat");
    }
  } catch (e) { /* no window at all */ }
}

function connect() {
  try {
    port = api.runtime.connectNative(HOST);
  } catch (e) {
    port = null;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    return;
  }
  port.onMessage.addListener(onCompanion);
  port.onDisconnect.addListener(() => {
    port = null;
    clearInterval(heartbeat);
    heartbeat = null;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  });
  send({type: "hello", version: api.runtime.getManifest().version, agent: navigator.userAgent});
  heartbeat = setInterval(beat, HEARTBEAT_MS);
  api.windows.getLastFocused({}).then((win) => {
    focusedWindow = win && win.focused ? win.id : NO_WINDOW;
    sendActive("connected");
  }, () => sendActive("connected"));
}

// The companion answers the hello with the platform's origins (its --platform-url beside
// app.pix.fr / app.pix.org), where content.js must listen for the exam phase.
async function onCompanion(message) {
  retryMs = 250;
  if (message && message.type === "refresh") {
    // the companion sees one of this browser's windows in front while we said none had the
    // focus: the browser does not always report a window raised by the window manager
    try {
      const win = await api.windows.getLastFocused({});
      focusedWindow = win && win.focused ? win.id : NO_WINDOW;
    } catch (e) { /* no window */ }
    sendActive("refresh");
    return;
  }
  if (!message || message.type !== "config" || !Array.isArray(message.platform_matches)) return;
  const matches = message.platform_matches.filter((m) => typeof m === "string");
  try {
    await api.scripting.unregisterContentScripts({ids: ["platform"]});
  } catch (e) { /* none registered yet */ }
  if (matches.length === 0) return;
  try {
    await api.scripting.registerContentScripts([{id: "platform", matches, js: ["content.js"],
                                                 runAt: "document_start", persistAcrossSessions: false}]);
  } catch (e) {
    send({type: "error", where: "registerContentScripts", error: String(e)});
  }
  // pages already open when the companion (re)connected get the listener now; one that
  // already has it says again whether its question requires focus (a new companion, or a
  // new native host after this service worker restarted, knows nothing yet)
  for (const tab of await api.tabs.query({url: matches})) {
    api.scripting.executeScript({target: {tabId: tab.id}, files: ["content.js"]}).catch(() => {});
  }
}

api.windows.onFocusChanged.addListener((windowId) => {
  focusedWindow = windowId;
  sendActive("focus");
});
api.tabs.onActivated.addListener((info) => {
  if (info.windowId === focusedWindow) sendActive("tab");
});
api.tabs.onUpdated.addListener((tabId, change, tab) => {
  if (change.url === undefined) return;
  tabHosts.set(tabId, place(change.url));
  if (tab.active && tab.windowId === focusedWindow) sendActive("navigation");
});
api.tabs.onCreated.addListener((tab) => {
  const where = place(tab.pendingUrl || tab.url || "");
  tabHosts.set(tab.id, where);
  send({type: "tab_opened", tab: tab.id, window: tab.windowId, ...where});
});
api.tabs.onRemoved.addListener((tabId, info) => {
  const where = tabHosts.get(tabId) || place("");
  tabHosts.delete(tabId);
  send({type: "tab_closed", tab: tabId, window: info.windowId, window_closing: info.isWindowClosing, ...where});
});

// content.js on a platform page: the page said the certification started or stopped, or
// whether the question on screen requires focus (a boolean, nothing of the page). The
// sender's tab URL comes from the browser, not from the page: a page cannot claim another host.
api.runtime.onMessage.addListener((message, sender) => {
  if (!message || !sender.tab) return;
  const where = place(sender.url || sender.tab.url || "");
  if (message.type === "phase" && (message.phase === "start" || message.phase === "stop")) {
    send({type: "phase", phase: message.phase, tab: sender.tab.id, ...where});
  } else if (message.type === "focus" && typeof message.required === "boolean") {
    send({type: "focus", required: message.required, tab: sender.tab.id, ...where});
  }
});

// devtools.js runs each time DevTools opens on a tab; its port closes with DevTools.
api.runtime.onConnect.addListener((devtools) => {
  if (!devtools.name.startsWith("devtools:")) return;
  const tabId = Number(devtools.name.slice("devtools:".length));
  const report = async (open) => {
    let where = place("");
    try {
      where = place((await api.tabs.get(tabId)).url || "");
    } catch (e) { /* the tab closed with its DevTools */ }
    send({type: open ? "devtools_opened" : "devtools_closed", tab: tabId, ...where});
  };
  report(true);
  devtools.onDisconnect.addListener(() => report(false));
});

connect();
