/* examroom dashboard: who is logged in (GET /me) and, for an admin, the accounts panel
 * (#/accounts): the accounts with their role (and room for a supervisor), creating one,
 * changing its role, room or password, removing one. Every rule is the server's
 * (supervisor/accounts.py, routes_admin.py: the same password strength as `examroom user
 * add`, the built-in admin cannot be removed nor demoted, removing one's own account needs a
 * second confirmation); this page says them before sending and translates the refusals.
 *
 * Reads GET /me, /users, /rooms; writes POST /users, PATCH /users/{name},
 * DELETE /users/{name}. Other roles do not see the panel's link, and the server refuses them.
 */
import { TOKEN_KEY, api, el, fmtDateTime, setView, state, t } from "./base.js";
import { askConfirm } from "./confirm.js";

const ROLES = ["admin", "technician", "supervisor"];
const MIN_PASSWORD = 8;  // supervisor/passwords.py MIN_LENGTH (the server checks again, and the common list)
const NAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;  // supervisor/accounts.py NAME

/** The caller's account ({username, role, room}), once per token; shows the admin's link. */
export async function loadMe() {
  if (state.me && state.me.token === state.token) { showNav(); return state.me; }
  const token = state.token;
  try {
    const me = await api("/me");
    state.me = { ...me, token };
  } catch (_) {
    state.me = null;  // 401: base.js already sends the page to the login
  }
  showNav();
  return state.me;
}

export function forgetMe() {
  state.me = null;
  showNav();
}

function showNav() {
  // style.css hides, per role, the buttons of what the role may not do (the server refuses it anyway)
  if (state.me) document.body.dataset.role = state.me.role; else delete document.body.dataset.role;
  const link = document.getElementById("nav-accounts");
  if (link) link.hidden = !(state.me && state.me.role === "admin");
  const who = document.getElementById("whoami");
  if (who) {
    who.hidden = !state.me;
    who.textContent = state.me ? t("dash.accounts.whoami", { name: state.me.username, role: t(`dash.role.${state.me.role}`) }) : "";
  }
}

/** A refusal of the server in the dashboard's language (its `code` and `detail.reason`). */
function explain(e) {
  const reason = e.detail && e.detail.reason;
  if (e.code === "weak_password") {
    return t(reason === "password_too_short" ? "dash.accounts.error.too_short" : "dash.accounts.error.common", { min: MIN_PASSWORD });
  }
  if (e.code === "bad_user" && ["name", "role", "room_needed", "unknown_room", "exists", "builtin", "busy"].includes(reason)) {
    return t(`dash.accounts.error.${reason}`);
  }
  if (e.code === "no_user") return t("dash.accounts.error.no_user");
  if (e.code === "admin_only") return t("dash.accounts.admin_only");
  if (e.code === "invalid") return t("dash.accounts.error.name");
  return e.message;
}

/** Checked here first (the same rules as the server), so a typo is said at once. */
function localProblem({ username, password, role, room }) {
  if (username !== undefined && (!NAME.test(username) || username === "admin")) return t("dash.accounts.error.name");
  if (password !== undefined && password !== null && password.length < MIN_PASSWORD) return t("dash.accounts.error.too_short", { min: MIN_PASSWORD });
  if (role === "supervisor" && !room) return t("dash.accounts.error.room_needed");
  return null;
}

function roleSelect(id, value) {
  return el("select", { id, class: "role-select" }, ROLES.map((r) => el("option", { value: r, selected: r === value, text: t(`dash.role.${r}`) })));
}

function roomSelect(id, rooms, value) {
  return el("select", { id, class: "room-select" },
    el("option", { value: "", text: t("dash.accounts.room_none") }),
    rooms.map((r) => el("option", { value: r.code, selected: r.code === value, text: `${r.name} (${r.code})` })));
}

export async function showAccounts() {
  await loadMe();
  if (!state.me) return;
  if (state.me.role !== "admin") {
    setView("accounts", el("section", { class: "card", id: "accounts-refused" },
      el("h1", { text: t("dash.accounts.title") }), el("p", { text: t("dash.accounts.admin_only") })));
    return;
  }
  const list = el("div", { id: "accounts-list" }, el("p", { class: "muted", text: t("dash.loading") }));
  const status = el("p", { class: "form-error", role: "alert", id: "accounts-error" });
  setView("accounts", el("h1", { text: t("dash.accounts.title") }),
    el("p", { class: "muted", text: t("dash.accounts.intro") }), status, list);
  if (await renderList(list, status)) list.after(createForm(state.accountRooms));
}

async function renderList(list, status) {
  let users, rooms;
  try {
    [users, rooms] = await Promise.all([api("/users"), api("/rooms")]);
  } catch (e) {
    if (e.status !== 401) status.textContent = explain(e);
    return false;
  }
  state.accountRooms = rooms;
  const roomName = (code) => (rooms.find((r) => r.code === code) || { name: code }).name;
  list.replaceChildren(el("table", { class: "table accounts", id: "accounts-table" },
    el("thead", {}, el("tr", {}, ["dash.accounts.col.name", "dash.accounts.col.role", "dash.accounts.col.room",
      "dash.accounts.col.created", "dash.accounts.col.actions"].map((k) => el("th", { text: t(k) })))),
    el("tbody", {}, users.map((u) => el("tr", { "data-user": u.username, "data-role": u.role },
      el("td", {}, el("strong", { text: u.username }), u.username === state.me.username ? el("span", { class: "muted", text: ` ${t("dash.accounts.you")}` }) : null),
      el("td", { class: "user-role", text: t(`dash.role.${u.role}`) }),
      el("td", { class: "user-room", text: u.room ? `${roomName(u.room)} (${u.room})` : "" }),
      el("td", { class: "small", text: u.builtin ? t("dash.accounts.builtin") : [fmtDateTime(u.created_at), u.created_by ? t("dash.accounts.by", { name: u.created_by }) : ""].filter(Boolean).join(" ") }),
      el("td", {}, u.builtin ? passwordButton(u, list, status) : [editButton(u, list, status), " ", passwordButton(u, list, status), " ", removeButton(u, list, status)]))))));
  return true;
}

/** A row's editor, below it: role and room. */
function editButton(u, list, status) {
  return el("button", { type: "button", class: "btn btn-small user-edit", text: t("dash.accounts.change_role"), onclick: (ev) => {
    const row = ev.target.closest("tr");
    closeEditors();
    const role = roleSelect("edit-role", u.role);
    const room = roomSelect("edit-room", state.accountRooms || [], u.room);
    const roomLine = el("span", { class: "inline", hidden: u.role !== "supervisor" }, el("label", { for: "edit-room", text: t("dash.accounts.room") }), room);
    role.addEventListener("change", () => { roomLine.hidden = role.value !== "supervisor"; });
    const err = el("p", { class: "form-error", role: "alert", id: "edit-error" });
    const save = el("button", { type: "submit", class: "btn btn-primary btn-small", id: "edit-save", text: t("dash.accounts.save") });
    const form = el("form", { class: "inline account-editor" }, el("label", { for: "edit-role", text: t("dash.accounts.role") }), role, roomLine, save, err);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { role: role.value, ...(role.value === "supervisor" ? { room: room.value } : {}) };
      const local = localProblem(body);
      if (local) { err.textContent = local; return; }
      try {
        await api(`/users/${encodeURIComponent(u.username)}`, { method: "PATCH", json: body });
        await renderList(list, status);
      } catch (x) { if (x.status !== 401) err.textContent = explain(x); }
    });
    row.after(el("tr", { class: "editor-row" }, el("td", { colspan: 5 }, form)));
    role.focus();
  } });
}

function passwordButton(u, list, status) {
  return el("button", { type: "button", class: "btn btn-small user-password", text: t("dash.accounts.change_password"), onclick: (ev) => {
    const row = ev.target.closest("tr");
    closeEditors();
    const pass = el("input", { id: "edit-password", type: "password", autocomplete: "new-password", minlength: MIN_PASSWORD, required: true });
    const err = el("p", { class: "form-error", role: "alert", id: "edit-error" });
    const done = el("p", { class: "muted", role: "status", id: "edit-done" });
    const form = el("form", { class: "inline account-editor" }, el("label", { for: "edit-password", text: t("dash.accounts.new_password") }), pass,
      el("button", { type: "submit", class: "btn btn-primary btn-small", id: "edit-save", text: t("dash.accounts.save") }), err, done);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      err.textContent = "";
      const local = localProblem({ password: pass.value });
      if (local) { err.textContent = local; return; }
      try {
        await api(`/users/${encodeURIComponent(u.username)}`, { method: "PATCH", json: { password: pass.value } });
        pass.value = "";
        done.textContent = t("dash.accounts.password_changed", { name: u.username });
      } catch (x) { if (x.status !== 401) err.textContent = explain(x); }
    });
    row.after(el("tr", { class: "editor-row" }, el("td", { colspan: 5 }, form)));
    pass.focus();
  } });
}

function closeEditors() {
  for (const row of document.querySelectorAll("#accounts-table .editor-row")) row.remove();
}

function removeButton(u, list, status) {
  return el("button", { type: "button", class: "btn btn-small btn-danger-ghost user-remove", text: t("dash.accounts.remove"), onclick: async () => {
    status.textContent = "";
    const self = u.username === state.me.username;
    if (!await askConfirm({ title: t("dash.accounts.remove_title", { name: u.username }), text: t("dash.accounts.remove_text"), ok: t("dash.accounts.remove") })) return;
    // One's own account: asked a second time, in other words (the server wants confirm_self).
    if (self && !await askConfirm({ title: t("dash.accounts.remove_self_title"), text: t("dash.accounts.remove_self_text"), ok: t("dash.accounts.remove_self") })) return;
    try {
      await api(`/users/${encodeURIComponent(u.username)}${self ? "?confirm_self=true" : ""}`, { method: "DELETE" });
    } catch (x) {
      if (x.status !== 401) status.textContent = explain(x);
      return;
    }
    if (self) {  // this session ended with the account
      sessionStorage.removeItem(TOKEN_KEY);
      state.token = null;
      forgetMe();
      location.hash = "#/login";
      return;
    }
    await renderList(list, status);
  } });
}

function createForm(rooms) {
  const name = el("input", { id: "account-name", name: "username", autocomplete: "off", maxlength: 32, required: true, placeholder: t("dash.accounts.name_placeholder") });
  const role = roleSelect("account-role", "supervisor");
  const room = roomSelect("account-room", rooms, "");
  const roomBox = el("div", { id: "account-room-box" }, el("label", { for: "account-room", text: t("dash.accounts.room") }), room);
  const pass = el("input", { id: "account-password", type: "password", autocomplete: "new-password", required: true });
  const err = el("p", { class: "form-error", role: "alert", id: "account-error" });
  const done = el("p", { class: "muted", role: "status", id: "account-done" });
  role.addEventListener("change", () => { roomBox.hidden = role.value !== "supervisor"; });
  const form = el("form", { class: "card create-account", id: "account-create" },
    el("h2", { text: t("dash.accounts.create") }),
    el("label", { for: "account-name", text: t("dash.accounts.name") }), name,
    el("label", { for: "account-role", text: t("dash.accounts.role") }), role,
    el("p", { class: "muted small", id: "account-role-help", text: t("dash.accounts.roles_help") }),
    roomBox,
    el("label", { for: "account-password", text: t("dash.accounts.password") }), pass,
    el("p", { class: "muted small", text: t("dash.accounts.password_rule", { min: MIN_PASSWORD }) }),
    err, done,
    el("button", { type: "submit", class: "btn btn-primary", id: "account-submit", text: t("dash.accounts.create_button") }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = done.textContent = "";
    const body = { username: name.value.trim().toLowerCase(), role: role.value, password: pass.value,
      ...(role.value === "supervisor" ? { room: room.value } : {}) };
    const local = localProblem(body);
    if (local) { err.textContent = local; return; }
    try {
      const made = await api("/users", { method: "POST", json: body });
      name.value = pass.value = "";
      done.textContent = t("dash.accounts.created", { name: made.username, role: t(`dash.role.${made.role}`) });
      await renderList(document.getElementById("accounts-list"), document.getElementById("accounts-error"));
    } catch (x) { if (x.status !== 401) err.textContent = explain(x); }
  });
  return form;
}
