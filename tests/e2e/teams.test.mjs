// tests/e2e/teams.test.mjs - team workspaces in the browser: an admin
// makes a team with `concord team` (the command line), an editor picks it
// in the header's workspace switcher and uploads a file through the file
// picker (it lands in the team's workspace, not the personal one: checked
// through the API with and without the header); the choice survives a
// reload; a viewer sees the same file and no member controls; the owner
// changes the viewer's role and removes the editor on the workspace page,
// whose activity table lists the upload with its request id; the removed
// editor's open page loses the team at its next request and the switcher
// falls back to the personal workspace.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { openSession } from "./lib/browser.mjs";
import { go, andSettle, signIn, shot, noProblems, a11yCheck, ARTIFACTS } from "./lib/helpers.mjs";

const PASSWORD = "e2e-Password-1";
const HTTP = (status) => new RegExp(`status of ${status}\\b`);

let server;
let tmp;
const who = {};          // name -> {page, context, problems, close}
const state = {};

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "concord-e2e-teams-"));
  fs.writeFileSync(path.join(tmp, "team_orders.csv"), "order_id,customer,amount\n1,Ann,10.00\n2,Bob,12.50\n");
  server = await startServer({
    users: [{ name: "ada", password: PASSWORD, role: "admin" }, { name: "ed", password: PASSWORD },
      { name: "vic", password: PASSWORD }],
  });
  const out = server.cli(["team", "add", "ops", "--owner", "ada"]);
  state.team = /id ([0-9a-f]{32})/.exec(out)[1];
  server.cli(["team", "member", "add", "ops", "ed", "--role", "editor"]);
  server.cli(["team", "member", "add", "ops", "vic", "--role", "viewer"]);
  for (const n of ["ada", "ed", "vic"]) who[n] = await openSession(server.url);
});

after(async () => {
  for (const s of Object.values(who)) await s.close();
  if (server) {
    for (const [from, to] of [[server.concordLog, "teams-concord.log"]]) {
      try { fs.copyFileSync(from, path.join(ARTIFACTS, to)); } catch { /* not written */ }
    }
    await server.stop();
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The API with the browser's session, in a workspace ("personal" or "team:ID"). */
async function apiIn(context, apiPath, ws) {
  const r = await context.request.get(apiPath, { headers: { Accept: "application/json", "X-Concord-Workspace": ws } });
  return { status: r.status(), json: await r.json().catch(() => null) };
}

const teamWs = () => `team:${state.team}`;

async function pick(page, value) {
  await andSettle(page, () => page.selectOption("#workspace", value));
}

describe("team workspaces", () => {
  test("the editor picks the team and uploads into it", async () => {
    const { page, context, problems } = who.ed;
    await signIn(page, "ed", PASSWORD);
    const options = await page.locator("#workspace option").evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, [["personal", "Personal"], [teamWs(), "ops (editor)"]]);
    await pick(page, teamWs());
    await go(page, "#/files");
    await page.setInputFiles("#file-input", [path.join(tmp, "team_orders.csv")]);
    await page.waitForSelector('tr[data-file="team_orders.csv"]', { timeout: 60000 });
    const inTeam = await apiIn(context, "/api/v1/files", teamWs());
    assert.deepEqual(inTeam.json.files.map((f) => f.name), ["team_orders.csv"]);
    state.fileId = inTeam.json.files[0].id;
    const personal = await apiIn(context, "/api/v1/files", "personal");
    assert.deepEqual(personal.json.files, [], "nothing in the editor's personal workspace");
    // remembered by this browser: a reload keeps the team
    await page.reload();
    await page.waitForSelector("#nav:not([hidden])");
    assert.equal(await page.locator("#workspace").inputValue(), teamWs());
    await go(page, "#/files");
    await page.waitForSelector('tr[data-file="team_orders.csv"]');
    await shot(page, "teams-01-editor-files");
    noProblems(problems);
  });

  test("the viewer reads the team's files; no member controls", async () => {
    const { page, problems } = who.vic;
    await signIn(page, "vic", PASSWORD);
    await pick(page, teamWs());
    await go(page, "#/files");
    await page.waitForSelector('tr[data-file="team_orders.csv"]');
    await go(page, "#/members");
    await page.waitForSelector("#members");
    assert.equal(await page.locator("#members select").count(), 0, "a viewer changes no role");
    assert.equal(await page.locator("#add-member").count(), 0, "a viewer adds nobody");
    assert.equal(await page.locator("#audit").count(), 0, "the audit log is the owners'");
    const roles = await page.locator("#members tr[data-member]").evaluateAll((rs) => rs.map((r) => [r.dataset.member, r.children[1].textContent]));
    assert.deepEqual(roles, [["ada", "owner"], ["ed", "editor"], ["vic", "viewer"]]);
    await a11yCheck(page);
    noProblems(problems);
  });

  test("the owner changes a role, removes a member and reads the activity", async () => {
    const { page, context, problems } = who.ada;
    await signIn(page, "ada", PASSWORD);
    await pick(page, teamWs());
    await go(page, "#/members");
    await page.waitForSelector("#audit");
    const uploadRow = page.locator("#audit tbody tr", { hasText: "file.upload" });
    assert.equal(await uploadRow.count(), 1, "the upload is in the activity");
    assert.match(await uploadRow.innerText(), new RegExp(`ed[\\s\\S]*${state.fileId}`));
    // vic: viewer -> editor
    const vicRow = page.locator('tr[data-member="vic"]');
    await vicRow.locator("select").selectOption("editor");
    await vicRow.getByRole("button", { name: "Save the role of vic" }).click();
    await page.waitForSelector("#members-msg .alert-success");
    const m = await apiIn(context, `/api/v1/teams/${state.team}/members`, "personal");
    assert.equal(m.json.members.find((x) => x.username === "vic").role, "editor");
    // remove ed, with the confirmation
    await page.locator('tr[data-member="ed"]').getByRole("button", { name: "Remove ed" }).click();
    await page.locator("dialog").getByRole("button", { name: "Remove" }).click();
    await page.waitForFunction(() => !document.querySelector('tr[data-member="ed"]'));
    const after = await apiIn(context, `/api/v1/teams/${state.team}/members`, "personal");
    assert.deepEqual(after.json.members.map((x) => x.username), ["ada", "vic"]);
    await page.waitForSelector("#audit");
    assert.equal(await page.locator("#audit tbody tr", { hasText: "member.remove" }).count(), 1);
    await shot(page, "teams-02-owner-members");
    noProblems(problems);
  });

  test("the removed editor's next request is refused; the switcher falls back", async () => {
    const { page, problems } = who.ed;
    // the open page still has the team selected: its next call is a 404
    await go(page, "#/files");
    await page.waitForSelector(".alert-error");
    noProblems(problems, [HTTP(404)]);
    await page.reload();
    await page.waitForSelector("#nav:not([hidden])");
    assert.equal(await page.locator("#workspace").inputValue(), "personal");
    assert.equal(await page.locator("#workspace option").count(), 1);
    await go(page, "#/files");
    await page.waitForSelector("#files-h");
    assert.equal(await page.locator('tr[data-file="team_orders.csv"]').count(), 0);
    noProblems(problems);
  });
});
