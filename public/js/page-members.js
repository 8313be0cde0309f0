// page-members.js - the current workspace (the switcher in the header):
// a team's members and roles, which its owners manage (add by user name
// with a role, change a role, remove); the workspace's audit log for its
// owners (a user for their personal workspace), paged, with a CSV export;
// and, for administrators, a form that creates a team.
import { get, post, put, del, BASE } from "./api.js";
import { h, clear, fmtTime, badge, errorBox, notice, confirmDialog, announce, scroller } from "./dom.js";
import { currentWorkspace, loadWorkspaces, switchWorkspace } from "./app.js";

const ROLES = [["viewer", "Viewer: reads"], ["editor", "Editor: uploads, maps, runs, reviews"], ["owner", "Owner: also manages members"]];

function roleSelect(id, value, label) {
  return h("select", { id, "aria-label": label }, ROLES.map(([v, t]) => h("option", { value: v, selected: v === value }, t)));
}

export async function render(view, ctx) {
  const ws = currentWorkspace();
  const team = ws.kind === "team" ? ws.team_id : null;
  const owner = ws.role === "owner";
  ctx.setTitle(team ? `Team ${ws.name}` : "Personal workspace");
  const msg = h("div", { id: "members-msg" });
  const membersBox = h("section.section", { "aria-labelledby": "members-h" });
  const auditBox = h("section.section", { "aria-labelledby": "audit-h" });
  view.append(h("h1", team ? `Team ${ws.name}` : "Personal workspace"),
    h("p.lead", team
      ? `A shared workspace: its members see the same files, runs and dashboards. Your role: ${ws.role}.`
      : "Your own workspace: nobody else sees its files, runs or dashboards. Teams you belong to are in the workspace menu at the top."),
    msg);

  async function showMembers() {
    const doc = await get(`/teams/${team}/members`, { signal: ctx.signal });
    const rows = doc.members || [];
    const row = (m) => h("tr", { "data-member": m.username },
      h("td", h("strong", m.username), m.user_id === ctx.user.id ? h("span.muted", " (you)") : null),
      h("td", owner
        ? roleSelect(`role-${m.user_id}`, m.role, `Role of ${m.username}`)
        : badge(m.role, m.role === "owner" ? "done" : "queued")),
      h("td", fmtTime(m.added_at)),
      owner ? h("td", h("span.row-actions",
        h("button.btn.btn-small", { type: "button", onclick: (e) => change(m, e.target.closest("tr").querySelector("select").value), "aria-label": `Save the role of ${m.username}` }, "Save role"),
        h("button.btn.btn-small.btn-danger-quiet", { type: "button", onclick: () => remove(m), "aria-label": `Remove ${m.username}` }, "Remove"))) : null);
    const heads = ["User", "Role", "Added"].concat(owner ? ["Actions"] : []);
    clear(membersBox).append(h("h2#members-h", "Members"), scroller(h("table.data", { id: "members" },
      h("thead", h("tr", heads.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", rows.map(row))), "Members"));
    if (!owner) return;
    const name = h("input", { id: "member-username", required: true, autocomplete: "off", maxlength: "64", autocapitalize: "none", spellcheck: "false" });
    const role = roleSelect("member-role", "viewer", "Role");
    const form = h("form.card.form-grid", { id: "add-member", "aria-labelledby": "add-member-h" },
      h("h2#add-member-h", "Add a member"),
      h("div.field", h("label", { for: "member-username" }, "User name"), name),
      h("div.field", h("label", { for: "member-role" }, "Role"), role),
      h("div.field.field-buttons", h("button.btn.btn-primary", { type: "submit" }, "Add member")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clear(msg);
      if (!form.reportValidity()) return;
      await act(() => post(`/teams/${team}/members`, { username: name.value.trim(), role: role.value }),
        `${name.value.trim()} was added as ${role.value}.`, "The member was not added");
    });
    membersBox.append(form);
  }

  async function act(fn, done, failed) {
    clear(msg);
    try {
      await fn();
      msg.append(notice(done, "success"));
      announce(done);
      await loadWorkspaces();
      if (currentWorkspace().id !== ws.id) {   // we left the team, or stopped being owner
        await switchWorkspace(currentWorkspace().id);
        return;
      }
      await showMembers();
      if (owner) await showAudit("/audit?_size=50");
    } catch (err) {
      msg.append(errorBox(err, failed));
    }
  }

  const change = (m, r) => act(() => put(`/teams/${team}/members/${encodeURIComponent(m.user_id)}`, { role: r }),
    `${m.username} is now ${r}.`, "The role was not changed");

  async function remove(m) {
    if (!await confirmDialog({ title: `Remove ${m.username}?`, text: "They lose access to this team's workspace at once, also in sessions they have open.", confirm: "Remove", danger: true })) return;
    await act(() => del(`/teams/${team}/members/${encodeURIComponent(m.user_id)}`), `${m.username} was removed.`, "The member was not removed");
  }

  async function showAudit(url) {
    const doc = await get(url, { signal: ctx.signal });
    const rows = doc.entries || [];
    clear(auditBox).append(h("h2#audit-h", "Activity"),
      h("p", "Every change to this workspace: who, when, what, and the request id. ",
        h("a.btn.btn-small", { href: `${BASE}/audit.csv?_dl=1`, download: "audit.csv" }, "Export CSV")),
      rows.length ? scroller(h("table.data", { id: "audit" },
        h("thead", h("tr", ["When", "Who", "Action", "Object", "Request id"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", rows.map((e) => h("tr", h("td", fmtTime(e.at)), h("td", e.username || "—"), h("td", h("code", e.action)),
          h("td", h("code", e.target || "")), h("td", h("code.small", e.request_id || "")))))), "Activity")
        : notice("Nothing has changed here yet.", "info"),
      doc.next_url ? h("p", h("button.btn.btn-small", { type: "button", onclick: () => showAudit(doc.next_url.replace(/^\/api\/v1/, "")) }, "Older entries")) : null);
  }

  if (team) {
    view.append(membersBox);
    await showMembers();
  }
  if (owner) {
    view.append(auditBox);
    await showAudit("/audit?_size=50");
  }
  if (ctx.user.role === "admin") view.append(createTeam(ctx, msg));
}

function createTeam(ctx, msg) {
  const name = h("input", { id: "team-name", required: true, autocomplete: "off", maxlength: "64", pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*", autocapitalize: "none", spellcheck: "false" });
  const owner = h("input", { id: "team-owner", autocomplete: "off", maxlength: "64", autocapitalize: "none", spellcheck: "false", value: ctx.user.username });
  const form = h("form.card.form-grid", { id: "create-team", "aria-labelledby": "create-team-h" },
    h("h2#create-team-h", "Create a team"),
    h("div.field", h("label", { for: "team-name" }, "Team name"), name),
    h("div.field", h("label", { for: "team-owner" }, "First owner (user name)"), owner),
    h("div.field.field-buttons", h("button.btn.btn-primary", { type: "submit" }, "Create team")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(msg);
    if (!form.reportValidity()) return;
    try {
      const body = { name: name.value.trim() };
      if (owner.value.trim()) body.owner = owner.value.trim();
      const doc = await post("/teams", body);
      msg.append(notice(`Team ${doc.team.name} was created. Pick it in the workspace menu.`, "success"));
      form.reset();
      await loadWorkspaces();
      if (body.owner === ctx.user.username) await switchWorkspace(doc.team.workspace);
    } catch (err) {
      msg.append(errorBox(err, "The team was not created"));
    }
  });
  return form;
}
