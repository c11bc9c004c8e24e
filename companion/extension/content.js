// examroom companion extension: content script on the exam platform's pages only
// (app.pix.fr, app.pix.org, and the centre's --platform-url, registered by background.js).
// It listens, passively, to the page's own messages that a certification starts or stops
// (a CustomEvent on window and a window.postMessage({event}) to the page's own origin) and
// tells the background. It reads nothing else from the page and answers nothing: the
// platform's "pix:companion:ping" belongs to the platform's own extension.
"use strict";
(() => {
  if (globalThis.__examroomPhaseListener) return;   // injected again after a reconnection
  globalThis.__examroomPhaseListener = true;
  const api = globalThis.browser ?? globalThis.chrome;
  const PHASES = {"pix:certification:start": "start", "pix:certification:stop": "stop"};
  let last = null;
  let lastAt = 0;

  function relay(name) {
    const phase = PHASES[name];
    if (phase === undefined) return;
    // the page sends each phase twice (event and message): relay it once
    const now = Date.now();
    if (phase === last && now - lastAt < 2000) return;
    last = phase;
    lastAt = now;
    try {
      api.runtime.sendMessage({type: "phase", phase}).catch(() => {});
    } catch (e) { /* the extension was reloaded: this page's script is orphaned */ }
  }

  for (const name of Object.keys(PHASES)) window.addEventListener(name, () => relay(name));
  window.addEventListener("message", (event) => {
    if (event.source !== window || event.origin !== location.origin) return;
    const data = event.data;
    if (data !== null && typeof data === "object" && typeof data.event === "string") relay(data.event);
  });
})();
