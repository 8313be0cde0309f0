// tests/e2e/ask.test.mjs - the Ask box of the Data page in headless
// Chromium, with no language model configured (the shipped default): a
// SELECT typed in SQL mode is answered with its rows, the SQL and a chart
// suggestion; a statement that writes is refused with its reason and
// changes nothing; a question in plain words says that it needs a model
// and points to SQL.  Expected figures come from the tables API, not from
// the endpoint under test.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { openSession } from "./lib/browser.mjs";
import { go, andSettle, hashOf, signIn, api, shot, noProblems, TIMEOUT, ARTIFACTS } from "./lib/helpers.mjs";
import { crmCsv } from "./lib/people.mjs";

const PASSWORD = "e2e-Password-1";
const HTTP = (status) => new RegExp(`status of ${status}\\b`);

let server;
let ada;
let tmp;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "concord-e2e-ask-"));
  fs.writeFileSync(path.join(tmp, "crm_customers.csv"), crmCsv());
  server = await startServer({ users: [{ name: "ada", password: PASSWORD, role: "member" }] });
  ada = await openSession(server.url);
});

after(async () => {
  if (ada) await ada.close();
  if (server) {
    try { fs.copyFileSync(server.concordLog, path.join(ARTIFACTS, "ask-concord.log")); } catch { /* not written */ }
    await server.stop();
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every row of dim_customer, through the tables API. */
async function customers(context) {
  const doc = (await api(context, "/api/v1/tables/dim_customer?_size=1000")).json;
  assert.ok(doc && doc.ok, "GET /tables/dim_customer");
  return doc.rows;
}

/** Types text in the Ask box in mode, submits, waits for the answer. */
async function ask(page, mode, text) {
  await page.selectOption("#ask-mode", mode);
  await page.fill("#ask-text", text);
  await page.click("#ask-go");
  await page.waitForFunction(() => {
    const out = document.querySelector("#ask-result");
    return out && out.children.length > 0 && !document.querySelector("#ask-go").disabled;
  }, null, { timeout: TIMEOUT });
  return page.locator("#ask-result").innerText();
}

describe("the Ask box of the Data page", () => {
  test("after a run, a SELECT in SQL mode answers its rows, the SQL and a chart", async () => {
    const { page, context, problems } = ada;
    await signIn(page, "ada", PASSWORD);
    await go(page, "#/files");
    await page.setInputFiles("#file-input", [path.join(tmp, "crm_customers.csv")]);
    await page.waitForFunction(() => document.querySelectorAll("li.upload.upload-done").length === 1, null, { timeout: 60000 });
    await go(page, "#/runs");
    await andSettle(page, () => page.click("#start-run"));
    const m = /^#\/runs\/([0-9a-f]+)$/.exec(hashOf(page));
    assert.ok(m, `on the run's page: ${hashOf(page)}`);
    const end = Date.now() + 180000;
    let run;
    do {
      run = (await api(context, `/api/v1/runs/${m[1]}`)).json.run;
      if (["queued", "running"].includes(run.state)) await new Promise((r) => setTimeout(r, 200));
    } while (["queued", "running"].includes(run.state) && Date.now() < end);
    assert.equal(run.state, "done", "the run ends done");
    const want = await customers(context);
    assert.ok(want.length > 0, "the run built dim_customer");
    await go(page, "#/data");
    await page.waitForSelector("#ask-form");
    const said = await ask(page, "sql", "SELECT count(*) AS n, count(DISTINCT canonical_id) AS people FROM dim_customer");
    assert.equal(await page.locator("#ask-rows").count(), 1, `a table of rows: ${said}`);
    const cells = await page.locator("#ask-rows tbody td").allInnerTexts();
    assert.deepEqual(cells.map(Number), [want.length, new Set(want.map((r) => r.canonical_id)).size],
      "the answer is the tables API's count");
    assert.match(await page.locator("#ask-sql").innerText(), /count\(\*\)/i, "the SQL is shown");
    assert.match(await page.locator("#ask-chart").innerText(), /Suggested chart/, "a chart is suggested");
    await shot(page, "ask-01-sql-answer");
    noProblems(problems);
  });

  test("a statement that writes is refused with its reason and changes nothing", async () => {
    const { page, context, problems } = ada;
    const before = (await customers(context)).length;
    const shown = await ask(page, "sql", "DELETE FROM dim_customer");
    assert.match(shown, /refused/i, "the page says the question was refused");
    assert.equal(await page.locator("#ask-rows").count(), 0, "no rows are shown");
    assert.equal((await customers(context)).length, before, "dim_customer is unchanged");
    await shot(page, "ask-02-refused");
    noProblems(problems, [HTTP(400)]);
    problems.length = 0;
  });

  test("plain words without a language model: 503, and the page points to SQL", async () => {
    const { page, problems } = ada;
    const shown = await ask(page, "ask", "How many customers are there?");
    assert.match(shown, /Choose SQL to ask without a language model/, "the way out is shown");
    assert.equal(await page.locator("#ask-rows").count(), 0, "no rows are shown");
    await shot(page, "ask-03-no-model");
    noProblems(problems, [HTTP(503)]);
    problems.length = 0;
  });
});
