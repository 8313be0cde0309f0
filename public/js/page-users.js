// page-users.js - user administration (admins): create, disable or enable,
// reset a password.  Each user has a private workspace: nobody sees another
// user's files or figures.
import { get, post, put } from "./api.js";
import { h, clear, fmtTime, badge, errorBox, notice, confirmDialog, promptDialog, announce, scroller } from "./dom.js";

export async function render(view, ctx) {
  ctx.setTitle("Users");
  if (ctx.user.role !== "admin") {
    view.append(h("h1", "Users"), notice("Only administrators manage users. Ask one of them to add or change an account.", "info"));
    return;
  }
  const msg = h("div", { id: "users-msg" });
  const listBox = h("section.section", { "aria-labelledby": "users-h" });
  const name = h("input", { id: "new-username", required: true, autocomplete: "off", maxlength: "64", pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*", autocapitalize: "none", spellcheck: "false", "aria-describedby": "new-username-hint" });
  const pass = h("input", { id: "new-password", type: "password", required: true, minlength: "8", maxlength: "1024", autocomplete: "new-password", "aria-describedby": "new-password-hint" });
  const role = h("select", { id: "new-role" }, h("option", { value: "member" }, "Member"), h("option", { value: "admin" }, "Administrator"));
  const form = h("form.card.form-grid", { id: "create-user", "aria-labelledby": "create-h" },
    h("h2#create-h", "Add a user"),
    h("div.field", h("label", { for: "new-username" }, "User name"), name,
      h("p#new-username-hint.hint", "Letters, digits, dot, dash or underscore.")),
    h("div.field", h("label", { for: "new-password" }, "Password"), pass,
      h("p#new-password-hint.hint", "At least 8 characters. Tell the person; they can change it under “My account”.")),
    h("div.field", h("label", { for: "new-role" }, "Role"), role),
    h("div.field.field-buttons", h("button.btn.btn-primary", { type: "submit" }, "Add user")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(msg);
    if (!form.reportValidity()) return;
    try {
      const doc = await post("/users", { username: name.value.trim(), password: pass.value, role: role.value });
      msg.append(notice(`User ${doc.user.username} was added.`, "success"));
      form.reset();
      await showList();
    } catch (err) {
      msg.append(errorBox(err, "The user was not added"));
    }
  });

  async function act(u, what) {
    clear(msg);
    try {
      if (what === "disable") {
        if (!await confirmDialog({ title: `Disable ${u.username}?`, text: "They are signed out at once and cannot sign in until enabled again. Their data is kept.", confirm: "Disable", danger: true })) return;
        await post(`/users/${encodeURIComponent(u.id)}/disable`, {});
        msg.append(notice(`${u.username} is disabled.`, "success"));
      } else if (what === "enable") {
        await post(`/users/${encodeURIComponent(u.id)}/enable`, {});
        msg.append(notice(`${u.username} is enabled again.`, "success"));
      } else if (what === "password") {
        const pw = await promptDialog({ title: `New password for ${u.username}`, text: "They are signed out everywhere and sign in with the new password.", label: "New password (at least 8 characters)", type: "password", minlength: "8", autocomplete: "new-password", confirm: "Set password" });
        if (pw === null) return;
        await put(`/users/${encodeURIComponent(u.id)}/password`, { password: pw });
        msg.append(notice(`The password of ${u.username} was reset.`, "success"));
      }
      announce(msg.textContent);
      await showList();
    } catch (err) {
      msg.append(errorBox(err, "That did not work"));
    }
  }

  async function showList() {
    const doc = await get("/users", { signal: ctx.signal });
    const users = doc.users || [];
    clear(listBox).append(h("h2#users-h", "Users"), scroller(h("table.data",
      h("thead", h("tr", ["User", "Role", "Status", "Created", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", users.map((u) => h("tr", { "data-user": u.username },
        h("td", h("strong", u.username), u.id === ctx.user.id ? h("span.muted", " (you)") : null),
        h("td", u.role === "admin" ? "Administrator" : "Member"),
        h("td", u.active ? badge("active", "done") : badge("disabled", "failed")),
        h("td", fmtTime(u.created_at)),
        h("td", h("span.row-actions",
          u.id === ctx.user.id ? null : u.active
            ? h("button.btn.btn-small.btn-danger-quiet", { type: "button", onclick: () => act(u, "disable"), "aria-label": `Disable ${u.username}` }, "Disable")
            : h("button.btn.btn-small", { type: "button", onclick: () => act(u, "enable"), "aria-label": `Enable ${u.username}` }, "Enable"),
          u.id === ctx.user.id ? h("a.btn.btn-small", { href: "#/account" }, "Change my password")
            : h("button.btn.btn-small", { type: "button", onclick: () => act(u, "password"), "aria-label": `Reset the password of ${u.username}` }, "Reset password"))))))), "Users"));
  }

  view.append(h("h1", "Users"),
    h("p.lead", "Each user has a private workspace: their files, runs, tables and dashboards are visible to them only."),
    msg, listBox, form);
  await showList();
}
