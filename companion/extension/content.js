// examroom companion extension: content script on the exam platform's pages only
// (app.pix.fr, app.pix.org, and the centre's --platform-url, registered by background.js).
// It tells the background two things, and reads nothing else from the page:
// - the certification starts or stops: the page's own messages (a CustomEvent on window and
//   a window.postMessage({event}) to the page's own origin), heard passively;
// - whether the question on screen requires focus: one boolean, from the platform's own
//   marker. The candidate app renders the statement's tooltip tag with the class
//   "tooltip__tag--focused" for a focused challenge ("tooltip__tag--regular" otherwise),
//   whatever the page's language; the page title is translated, and "challenge-item--focused"
//   only appears after focus was lost, so neither says it beforehand. A MutationObserver
//   notices the questions change; only the boolean leaves the page, and only when it changes.
// It answers nothing: the platform's "pix:companion:ping" belongs to the platform's own extension.
"use strict";
(() => {
  // injected again after a (re)connection to the companion: say the current state again
  if (globalThis.__examroomContent) {
    globalThis.__examroomContent.resend();
    return;
  }
  const api = globalThis.browser ?? globalThis.chrome;
  const PHASES = {"pix:certification:start": "start", "pix:certification:stop": "stop"};
  const FOCUSED = ".tooltip__tag--focused";
  const SETTLE_MS = 100;   // a question replaced by the next one: one look after the re-render
  let last = null;
  let lastAt = 0;
  let required = null;     // null: not told yet
  let pending = null;

  function tell(message) {
    try {
      api.runtime.sendMessage(message).catch(() => {});
    } catch (e) { /* the extension was reloaded: this page's script is orphaned */ }
  }

  function relay(name) {
    const phase = PHASES[name];
    if (phase === undefined) return;
    // the page sends each phase twice (event and message): relay it once
    const now = Date.now();
    if (phase === last && now - lastAt < 2000) return;
    last = phase;
    lastAt = now;
    tell({type: "phase", phase});
  }

  function look() {
    pending = null;
    const now = document.querySelector(FOCUSED) !== null;
    if (now === required) return;
    required = now;
    tell({type: "focus", required});
  }

  function soon() {
    if (pending === null) pending = setTimeout(look, SETTLE_MS);
  }

  globalThis.__examroomContent = {
    resend() {
      required = null;
      look();
    },
  };

  for (const name of Object.keys(PHASES)) window.addEventListener(name, () => relay(name));
  window.addEventListener("message", (event) => {
    if (event.source !== window || event.origin !== location.origin) return;
    const data = event.data;
    if (data !== null && typeof data === "object" && typeof data.event === "string") relay(data.event);
  });
  new MutationObserver(soon).observe(document, {childList: true, subtree: true, attributes: true,
                                                attributeFilter: ["class"]});
  soon();
})();
