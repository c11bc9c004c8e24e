// examroom companion extension: the browser loads this page each time DevTools opens on a
// tab (it creates no panel). Its port to the background tells which tab; the port closes
// when DevTools closes.
"use strict";
const api = globalThis.browser ?? globalThis.chrome;
api.runtime.connect({name: "devtools:" + api.devtools.inspectedWindow.tabId});
