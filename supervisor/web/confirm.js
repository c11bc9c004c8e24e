/* examroom dashboard: a confirmation asked in the page (a <dialog>, in the dashboard's
 * language and style, which window.confirm is not). Used before what cannot be undone:
 * revoking or removing a machine, removing an account. Imports base.js only.
 */
import { el, t } from "./base.js";

/** Resolves true when the supervisor confirms, false when they cancel (or press Escape). */
export function askConfirm({ title, text, ok, danger = true }) {
  document.getElementById("confirm-dialog")?.remove();
  return new Promise((resolve) => {
    const yes = el("button", { type: "button", class: danger ? "btn btn-danger" : "btn btn-primary", id: "confirm-ok", text: ok });
    const no = el("button", { type: "button", class: "btn", id: "confirm-cancel", text: t("dash.action.cancel") });
    const dialog = el("dialog", { id: "confirm-dialog", class: "confirm-dialog", "aria-labelledby": "confirm-title" },
      el("h2", { id: "confirm-title", text: title }),
      el("p", { id: "confirm-text", text }),
      el("div", { class: "inline confirm-buttons" }, no, yes));
    let answer = false;
    yes.addEventListener("click", () => { answer = true; dialog.close(); });
    no.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => { dialog.remove(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();  // the safe choice has the focus: Enter does not destroy
  });
}
