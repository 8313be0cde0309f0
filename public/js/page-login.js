// page-login.js - sign in.  The service sets the HttpOnly session cookie;
// the token in the answer is not kept anywhere.
import { post } from "./api.js";
import { h, errorBox } from "./dom.js";
import { signedIn, navigate } from "./app.js";

export async function render(view, ctx) {
  ctx.setTitle("Sign in");
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const msg = h("div", { id: "login-msg" }, ctx.flash);
  const button = h("button.btn.btn-primary.btn-wide", { type: "submit" }, "Sign in");
  const form = h("form.card.login", { novalidate: true, "aria-describedby": "login-intro" },
    h("h1", "Sign in to Concord"),
    h("p#login-intro.muted", "Concord turns the exports of your business systems — CRM, ERP, web shop, spreadsheets — into one clean, reconciled data set."),
    msg,
    h("div.field", h("label", { for: "username" }, "User name"), user),
    h("div.field", h("label", { for: "password" }, "Password"), pass),
    button,
    h("p.small.muted", "Forgot your password? Ask your Concord administrator to reset it."));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    if (!user.value.trim() || !pass.value) {
      msg.append(h("div.alert.alert-error", { role: "alert" }, "Enter your user name and password."));
      (user.value.trim() ? pass : user).focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      const doc = await post("/auth/login", { username: user.value.trim(), password: pass.value }, { auth401: false });
      await signedIn(doc.user);
      const after = sessionStorage.getItem("concord.after");
      sessionStorage.removeItem("concord.after");
      navigate(after && after !== "#/login" ? after : "#/", { replace: true });
    } catch (err) {
      button.disabled = false;
      button.textContent = "Sign in";
      msg.append(errorBox(err, err.status === 401 ? "Sign-in failed" : "Could not sign in"));
      pass.value = "";
      pass.focus();
    }
  });
  view.append(h("div.login-wrap", form));
  user.focus();
}
