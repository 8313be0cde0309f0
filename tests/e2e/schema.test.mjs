// tests/e2e/schema.test.mjs - the Schema page (#/schema) end to end: a
// person reads the target schema, defines an entity of their own
// (publication) through the form, sees a bad definition refused with every
// reason next to its field (and nothing stored), uploads two publication
// lists, confirms their proposed mappings onto the entity, runs, browses
// dim_publication, changes and deletes the entity.  Own server, own
// workspace; screenshots are artifacts/schema-NN-*.png.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { openSession } from "./lib/browser.mjs";
import { go, andSettle, signIn, api, shot, noProblems, noLeakedValues, a11yCheck, TIMEOUT } from "./lib/helpers.mjs";

const PASSWORD = "e2e-Password-2";
const HTTP = (status) => new RegExp(`status of ${status}\\b`);
const CSV = {
  "pubs_library.csv": "pub_id,title,authors,year\n"
    + "L1,Entity resolution at scale,\"Smith, J.; Doe, A.\",2019\n"
    + "L2,A survey of record linkage,\"Lee, K.\",2020\n"
    + "L3,Blocking methods for deduplication,\"Garcia, M.; Chen, L.\",2018\n",
  "pubs_repository.csv": "pub_id,title,authors,year\n"
    + "R10,Entity Resolution at Scale,\"J. Smith; A. Doe\",2019\n"
    + "R11,Probabilistic linkage with the EM algorithm,\"Fellegi, I.\",2021\n",
};

let server;
let carol;
let tmp;
let shotN = 0;
const snap = (page, name) => shot(page, `schema-${String(++shotN).padStart(2, "0")}-${name}`);

/** An unsafe API call from inside the page (same origin, its cookie). */
function call(page, method, apiPath, body) {
  return page.evaluate(async ([m, p, b]) => {
    const r = await fetch(p, {
      method: m, credentials: "same-origin",
      headers: { Accept: "application/json", ...(b === undefined ? {} : { "Content-Type": "application/json" }) },
      body: b === undefined ? undefined : JSON.stringify(b),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json };
  }, [method, apiPath, body]);
}

/** Fills the entity form: {name, label, linkage, attributes: [{name, type, role, compare, strong, synonyms}], blocking: [..]}. */
async function fillEntity(page, def) {
  await page.fill("#entity-name", def.name);
  if (def.label !== undefined) await page.fill("#entity-label", def.label);
  await page.check(`#linkage-${def.linkage || "dedupe"}`);
  // The form starts with two rows: grow or shrink to the definition's.
  const rows = page.locator("#attrs-body tr");
  while ((await rows.count()) < def.attributes.length) await page.click("#add-attribute");
  while ((await rows.count()) > def.attributes.length) await rows.last().locator("[data-k=remove]").click();
  for (const [i, a] of def.attributes.entries()) {
    const r = rows.nth(i);
    await r.locator("[data-k=name]").fill(a.name);
    await r.locator("[data-k=type]").selectOption(a.type);
    await r.locator("[data-k=role]").selectOption(a.role || "attribute");
    await r.locator("[data-k=compare]").selectOption(a.compare || "");
    await r.locator("[data-k=strong]").setChecked(!!a.strong);
    await r.locator("[data-k=synonyms]").fill((a.synonyms || []).join(", "));
  }
  await page.fill("#entity-blocking", (def.blocking || []).join("\n"));
}

const PUBLICATION = {
  name: "publication",
  label: "Publication",
  linkage: "one_to_one",
  attributes: [
    { name: "pub_id", type: "key", role: "natural_key" },
    { name: "title", type: "text", compare: "longtext", synonyms: ["paper title", "headline"] },
    { name: "authors", type: "text", compare: "longtext" },
    { name: "year", type: "integer", strong: true },
  ],
  blocking: ["title:first3", "year"],
};

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "concord-e2e-schema-"));
  for (const [name, text] of Object.entries(CSV)) fs.writeFileSync(path.join(tmp, name), text);
  server = await startServer({ users: [{ name: "carol", password: PASSWORD, role: "member" }] });
  carol = await openSession(server.url);
});

after(async () => {
  if (carol) await carol.close();
  if (server) await server.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("Schema page", () => {
  test("the target schema: every built-in entity with its attributes, read-only; none of your own yet", async () => {
    const { page, problems, context } = carol;
    await signIn(page, "carol", PASSWORD);
    await andSettle(page, () => page.click('#nav a[href="#/schema"]'));
    assert.equal(await page.locator('#nav a[href="#/schema"]').getAttribute("aria-current"), "page");
    const schema = (await api(context, "/api/v1/schema")).json.entities;
    assert.ok(schema.length >= 5);
    for (const e of schema) {
      const card = page.locator(`[data-entity="${e.name}"]`);
      assert.equal(await card.count(), 1, `${e.name} is listed`);
      assert.equal(await card.locator("tbody tr").count(), e.attributes.length, `every attribute of ${e.name}`);
      assert.equal(await card.locator("[data-action]").count(), 0, `${e.name} is read-only`);
    }
    const key = page.locator('[data-entity="customer"] tr[data-attr="customer_id"]');
    assert.match(await key.innerText(), /key\s+natural key/);
    assert.match(await page.locator("#own-entities").innerText(), /None yet/);
    await a11yCheck(page);
    await noLeakedValues(page);
    await snap(page, "schema");
    noProblems(problems);
  });

  test("a bad definition (an attribute twice, no natural key) shows every reason next to its field and stores nothing", async () => {
    const { page, problems, context } = carol;
    await fillEntity(page, {
      name: "publication",
      attributes: [
        { name: "title", type: "text" },
        { name: "title", type: "text" },
        { name: "year", type: "integer" },
      ],
    });
    await page.click("#save-entity");
    await page.locator("#entity-form-msg [role=alert]").waitFor({ timeout: TIMEOUT });
    const dup = page.locator("#attrs-body tr").nth(1);
    assert.match(await dup.locator(".field-error").innerText(), /attribute title is defined twice/);
    assert.equal(await dup.locator("[data-k=name]").getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator("#attrs-body tr").nth(0).locator(".field-error").isHidden(), true, "the first title is fine");
    assert.match(await page.locator("#entity-attributes-err").innerText(), /exactly one attribute has the role natural_key/);
    const summary = await page.locator("#entity-form-msg [role=alert]").innerText();
    assert.match(summary, /nothing was stored/);
    assert.match(summary, /Attribute 2 \(title\): attribute title is defined twice/);
    assert.equal((await api(context, "/api/v1/schema/entities")).json.entities.length, 0, "nothing stored");
    assert.equal((await api(context, "/api/v1/schema/entities/publication")).status, 404);
    await a11yCheck(page);
    await snap(page, "bad-definition");
    noProblems(problems, [HTTP(422)]);
  });

  test("define publication through the form: listed as yours, with the next steps", async () => {
    const { page, problems, context } = carol;
    await go(page, "#/schema");
    await fillEntity(page, PUBLICATION);
    await snap(page, "form-filled");
    await page.click("#save-entity");
    const saved = page.locator("#entity-saved");
    await saved.waitFor({ timeout: TIMEOUT });
    const text = await saved.innerText();
    assert.match(text, /publication was defined/);
    assert.match(text, /mapper now proposes/);
    assert.match(text, /next run builds the table dim_publication/);
    assert.equal(await page.locator("#saved-files").getAttribute("href"), "#/files");
    assert.equal(await page.locator("#saved-data").getAttribute("href"), "#/data/dim_publication");
    const card = page.locator('#own-entities [data-entity="publication"]');
    assert.equal(await card.count(), 1);
    assert.match(await card.locator(".entity-head").innerText(), /Publication\s+publication\s+yours/);
    assert.match(await card.locator('tr[data-attr="title"]').innerText(), /longtext\s+paper title, headline/);
    assert.match(await card.locator('tr[data-attr="pub_id"]').innerText(), /natural key\s+by type/);
    assert.match(await card.locator(".entity-blocking").innerText(), /Blocking: title:first3, year/);
    assert.match(await card.locator('tr[data-attr="year"]').innerText(), /strong/);
    assert.match(await card.innerText(), /one to one/);
    const def = (await api(context, "/api/v1/schema/entities/publication")).json.entity;
    assert.equal(def.linkage, "one_to_one");
    assert.deepEqual(def.blocking, PUBLICATION.blocking);
    assert.deepEqual(def.attributes.map((a) => [a.name, a.type, a.role || "attribute", a.compare || null, !!a.strong]),
      PUBLICATION.attributes.map((a) => [a.name, a.type, a.role || "attribute", a.compare || null, !!a.strong]));
    assert.deepEqual(def.attributes[1].synonyms, ["paper title", "headline"]);
    assert.equal(await page.locator("#entity-name").inputValue(), "", "the form is empty again");
    await a11yCheck(page);
    await noLeakedValues(page);
    await snap(page, "defined");
    noProblems(problems);
    // The same name again: 409, said next to the name; still one.
    await fillEntity(page, PUBLICATION);
    await page.click("#save-entity");
    await page.locator("#entity-form-msg [role=alert]").waitFor({ timeout: TIMEOUT });
    assert.match(await page.locator("#entity-name-err").innerText(), /already have an entity named publication/);
    assert.equal((await api(context, "/api/v1/schema/entities")).json.entities.length, 1);
    noProblems(problems, [HTTP(409)]);
    await go(page, "#/schema");
  });

  test("change it: the form holds the stored definition, the name is fixed", async () => {
    const { page, problems, context } = carol;
    await page.click('[data-entity="publication"] [data-action=edit]');
    await page.waitForFunction(() => document.querySelector("#entity-name").value === "publication");
    assert.equal(await page.locator("#entity-name").getAttribute("readonly"), "");
    assert.equal(await page.locator("#attrs-body tr").count(), PUBLICATION.attributes.length);
    assert.equal(await page.locator("#attrs-body tr").nth(1).locator("[data-k=synonyms]").inputValue(), "paper title, headline");
    assert.equal(await page.locator("#entity-blocking").inputValue(), "title:first3\nyear");
    assert.equal(await page.locator("#linkage-one_to_one").isChecked(), true);
    await page.fill("#entity-label", "Publications");
    await snap(page, "change");
    await page.click("#save-entity");
    await page.locator("#entity-saved").waitFor({ timeout: TIMEOUT });
    assert.match(await page.locator("#entity-saved").innerText(), /publication was changed/);
    assert.equal((await api(context, "/api/v1/schema/entities/publication")).json.entity.label, "Publications");
    noProblems(problems);
  });

  test("two publication lists: mapped onto publication, run, rows in dim_publication", async () => {
    const { page, problems, context } = carol;
    await page.click("#saved-files");
    await page.waitForSelector("#files-h");
    await page.setInputFiles("#file-input", Object.keys(CSV).map((f) => path.join(tmp, f)));
    await page.waitForFunction(() => document.querySelectorAll("li.upload.upload-done").length === 2, null, { timeout: 60000 });
    const files = (await api(context, "/api/v1/files")).json.files;
    assert.equal(files.length, 2);
    for (const f of files) {
      let m;
      for (let i = 0; i < 100; i++) { // profiling and proposing may take a moment
        m = (await api(context, `/api/v1/files/${f.id}/mapping`)).json?.mapping;
        if (m && m.columns && m.columns.length) break;
        await page.waitForTimeout(100);
      }
      const targets = Object.fromEntries(m.columns.map((c) => [c.source, c.target]));
      assert.deepEqual(targets, {
        pub_id: "publication.pub_id", title: "publication.title", authors: "publication.authors", year: "publication.year",
      }, `${f.name}: the mapper proposes onto publication`);
      const r = await call(page, "PUT", `/api/v1/files/${f.id}/mapping`, { columns: m.columns.map((c) => ({ source: c.source, target: c.target })) });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    const start = await call(page, "POST", "/api/v1/runs", {});
    assert.ok(start.status === 201 || start.status === 202, JSON.stringify(start.json));
    const id = start.json.id || (start.json.run && start.json.run.id);
    assert.ok(id, JSON.stringify(start.json));
    let run;
    for (const end = Date.now() + 120000; ;) {
      run = (await api(context, `/api/v1/runs/${id}`)).json.run;
      if (!["queued", "running"].includes(run.state)) break;
      assert.ok(Date.now() < end, "the run finishes within 2 minutes");
      await page.waitForTimeout(250);
    }
    assert.equal(run.state, "done", JSON.stringify(run));
    assert.equal(run.counts.publication_records, 5, JSON.stringify(run.counts));
    await go(page, "#/data/dim_publication");
    const rows = page.locator("#dim_publication-rows tbody tr");
    await rows.first().waitFor({ timeout: TIMEOUT });
    const t = (await api(context, "/api/v1/tables/dim_publication.json")).json;
    assert.ok((t.rows || []).length >= 4, `dim_publication has the publications: ${JSON.stringify(t).slice(0, 300)}`);
    assert.equal(await rows.count(), t.rows.length);
    const shown = await page.locator("#dim_publication-rows").innerText();
    assert.match(shown, /A survey of record linkage/);
    assert.match(shown, /Probabilistic linkage with the EM algorithm/);
    await a11yCheck(page);
    await noLeakedValues(page);
    await snap(page, "dim-publication");
    noProblems(problems);
  });

  test("delete it through the page, after confirming", async () => {
    const { page, problems, context } = carol;
    await go(page, "#/schema");
    await page.click('[data-entity="publication"] [data-action=delete]');
    const dlg = page.locator("dialog[open]");
    await dlg.waitFor();
    assert.match(await dlg.innerText(), /Delete the entity publication\?/);
    await snap(page, "delete-confirm");
    await dlg.locator("button[value=no]").click();
    await dlg.waitFor({ state: "detached" });
    assert.equal((await api(context, "/api/v1/schema/entities/publication")).status, 200, "cancel keeps it");
    await page.click('[data-entity="publication"] [data-action=delete]');
    await page.locator("dialog[open] button[value=yes]").click();
    await page.locator("#entity-deleted").waitFor({ timeout: TIMEOUT });
    assert.match(await page.locator("#entity-deleted").innerText(), /publication was deleted/);
    assert.equal(await page.locator('[data-entity="publication"]').count(), 0);
    assert.match(await page.locator("#own-entities").innerText(), /None yet/);
    assert.equal((await api(context, "/api/v1/schema/entities/publication")).status, 404);
    assert.equal((await api(context, "/api/v1/schema")).json.entities.some((e) => e.name === "publication"), false);
    await a11yCheck(page);
    await snap(page, "deleted");
    // What the dialog said: the next run no longer builds dim_publication.
    const again = await call(page, "POST", "/api/v1/runs", {});
    let run;
    for (const end = Date.now() + 120000; ;) {
      run = (await api(context, `/api/v1/runs/${again.json.id}`)).json.run;
      if (!["queued", "running"].includes(run.state)) break;
      assert.ok(Date.now() < end);
      await page.waitForTimeout(250);
    }
    assert.equal(run.state, "done", JSON.stringify(run));
    const tables = (await api(context, "/api/v1/tables")).json.tables.map((t) => t.name);
    assert.ok(!tables.includes("dim_publication"), `no dim_publication after the next run: ${tables}`);
    noProblems(problems, [HTTP(404)]);
  });
});
