// page-account.js - who I am, and changing my password (which signs me out
// everywhere: I then sign in with the new one).
import { put } from "./api.js";
import { h, clear, errorBox } from "./dom.js";
import { endSession } from "./app.js";

export async function render(view, ctx) {
  ctx.setTitle("My account");
  const u = ctx.user;
  const msg = h("div");
  const cur = h("input", { id: "cur-password", type: "password", required: true, autocomplete: "current-password" });
  const pw = h("input", { id: "new-password", type: "password", required: true, minlength: "8", maxlength: "1024", autocomplete: "new-password" });
  const pw2 = h("input", { id: "new-password2", type: "password", required: true, minlength: "8", maxlength: "1024", autocomplete: "new-password" });
  const form = h("form.card.form-narrow", { "aria-labelledby": "pw-h" },
    h("h2#pw-h", "Change my password"),
    msg,
    h("div.field", h("label", { for: "cur-password" }, "Current password"), cur),
    h("div.field", h("label", { for: "new-password" }, "New password (at least 8 characters)"), pw),
    h("div.field", h("label", { for: "new-password2" }, "New password again"), pw2),
    h("button.btn.btn-primary", { type: "submit" }, "Change password"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(msg);
    if (pw.value !== pw2.value) {
      msg.append(h("div.alert.alert-error", { role: "alert" }, "The two new passwords differ."));
      pw2.focus();
      return;
    }
    if (!form.reportValidity()) return;
    try {
      await put("/me/password", { current_password: cur.value, password: pw.value }, { auth401: false });
      endSession("Your password was changed. Sign in with the new one.");
    } catch (err) {
      msg.append(errorBox(err, "The password was not changed", err.status === 401 || err.status === 403 ? "The current password is wrong." : undefined));
    }
  });
  view.append(h("h1", "My account"),
    h("dl.facts", h("div", h("dt", "User name"), h("dd", u.username)), h("div", h("dt", "Role"), h("dd", u.role === "admin" ? "Administrator" : "Member"))),
    form);
}
