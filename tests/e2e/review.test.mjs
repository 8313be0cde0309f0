// tests/e2e/review.test.mjs - the review queue of entity resolution and the
// matching dashboard, end to end in headless Chromium: a person uploads a
// CRM export and a web shop's export that names some of the same people
// again (lib/people.mjs), runs the reconciliation, rejects one pair and
// accepts another with the keyboard on the review page, runs again and
// finds the two records of the rejected pair apart and those of the
// accepted one together; then reads the matching dashboard and splits a
// cluster.  What the page should show is taken from the API's answer.
//
// The tests run in order and build on each other (one workspace).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { openSession } from "./lib/browser.mjs";
import { go, andSettle, hashOf, signIn, api, shot, noProblems, noLeakedValues, a11yCheck, tileValues, TIMEOUT, ARTIFACTS } from "./lib/helpers.mjs";
import { crmCsv, shopCsv } from "./lib/people.mjs";

const PASSWORD = "e2e-Password-1";
const HTTP = (status) => new RegExp(`status of ${status}\\b`);

let server;
let rita; // the person who reviews: {page, context, problems}
let tmp;
const state = {};
let shotN = 0;
const snap = (page, name) => shot(page, `review-${String(++shotN).padStart(2, "0")}-${name}`);

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "concord-e2e-review-"));
  fs.writeFileSync(path.join(tmp, "crm_customers.csv"), crmCsv());
  fs.writeFileSync(path.join(tmp, "shop_customers.csv"), shopCsv());
  server = await startServer({
    users: [{ name: "rita", password: PASSWORD, role: "member" }, { name: "sam", password: PASSWORD, role: "member" }],
  });
  rita = await openSession(server.url);
});

after(async () => {
  if (rita) await rita.close();
  if (server) {
    for (const [from, to] of [[server.concordLog, "review-concord.log"], [server.nginxLog, "review-nginx-error.log"]]) {
      try { fs.copyFileSync(from, path.join(ARTIFACTS, to)); } catch { /* not written */ }
    }
    await server.stop();
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Waits until the run `id` has finished; returns it. */
async function runDone(context, id) {
  const end = Date.now() + 180000;
  for (;;) {
    const run = (await api(context, `/api/v1/runs/${id}`)).json.run;
    if (!["queued", "running"].includes(run.state)) return run;
    assert.ok(Date.now() < end, "the run finishes within 3 minutes");
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every row of a table of the tables API with these filters. */
async function rows(context, name, filters) {
  const q = new URLSearchParams({ ...filters, _size: "1000" });
  const doc = (await api(context, `/api/v1/tables/${name}?${q}`)).json;
  assert.ok(doc && doc.ok, `GET /tables/${name}?${q}`);
  return doc.rows;
}

/** The current model's match_pairs row of the two records of pair p (by lineage). */
async function pairByLineage(context, p) {
  const found = await rows(context, "match_pairs", {
    a_file_id__exact: p.a.file_id, a_row__exact: String(p.a.row), b_file_id__exact: p.b.file_id, b_row__exact: String(p.b.row),
  });
  assert.equal(found.length, 1, `one pair of ${p.a.file_id}:${p.a.row} and ${p.b.file_id}:${p.b.row}`);
  return found[0];
}

/** The canonical id of a record (staging, by lineage), checked against dim_customer. */
async function canonicalOf(context, side) {
  const stg = await rows(context, "stg_customer", { _file_id__exact: side.file_id, _row__exact: String(side.row) });
  assert.equal(stg.length, 1, `the staged record ${side.file_id}:${side.row}`);
  const id = Number(stg[0]._key);
  const dim = await rows(context, "dim_customer", { canonical_id__exact: String(id) });
  assert.ok(dim.length >= 1, `dim_customer has customer ${id}`);
  return id;
}

const pendingShown = (page) => page.locator("#review-pending").getAttribute("data-pending").then(Number);
const pairShown = (page) => page.locator("section.review-pair").getAttribute("data-pair-id").then(Number);

describe("entity resolution: review queue and matching dashboard", () => {
  test("upload a CRM and a web shop export, run: some pairs wait for review", async () => {
    const { page, problems, context } = rita;
    await signIn(page, "rita", PASSWORD);
    await go(page, "#/review");
    await page.waitForSelector("#review-card .empty");
    assert.match(await page.locator("#review-card").innerText(), /Nothing to review yet/, "before any run: come back after one");
    await snap(page, "empty-before-any-run");
    await go(page, "#/files");
    await page.setInputFiles("#file-input", [path.join(tmp, "crm_customers.csv"), path.join(tmp, "shop_customers.csv")]);
    await page.waitForFunction(() => document.querySelectorAll("li.upload.upload-done").length === 2, null, { timeout: 60000 });
    await go(page, "#/runs");
    await andSettle(page, () => page.click("#start-run"));
    const m = /^#\/runs\/([0-9a-f]+)$/.exec(hashOf(page));
    assert.ok(m, `on the run's page: ${hashOf(page)}`);
    const run = await runDone(context, m[1]);
    assert.equal(run.state, "done");
    const q = (await api(context, "/api/v1/review?_size=100")).json;
    assert.ok(q.pending >= 2, `at least two pairs wait for review (${q.pending})`);
    assert.equal(q.items.length, q.pending);
    for (const p of q.items) {
      assert.ok(p.probability >= 0.3 && p.probability < 0.9, `pair ${p.pair_id}: probability ${p.probability} between the thresholds`);
      assert.equal(p.decision, "review");
      assert.notEqual(p.a.canonical_id, p.b.canonical_id, "a pair in review is not merged");
    }
    const matched = await rows(context, "match_pairs", { decision__exact: "matched" });
    assert.ok(matched.length > 0, "the matcher also merged some pairs on its own");
    state.queue = q;
    noProblems(problems);
  });

  test("the overview shows how many pairs wait, with a link to the review page", async () => {
    const { page, problems } = rita;
    await go(page, "#/");
    const note = page.locator("#home-review");
    await note.waitFor({ timeout: TIMEOUT });
    assert.equal(Number(await note.getAttribute("data-pending")), state.queue.pending);
    assert.match(await note.innerText(), new RegExp(`${state.queue.pending}\\s+pairs of records wait for your review`));
    await snap(page, "overview");
    await andSettle(page, () => note.locator('a[href="#/review"]').click());
    assert.equal(hashOf(page), "#/review");
    noProblems(problems);
  });

  test("review page: the pair with the two records side by side, levels, probability, weight, rule, lineage", async () => {
    const { page, problems, context } = rita;
    await page.waitForSelector("section.review-pair");
    assert.equal(await page.locator('#nav a[href="#/review"]').getAttribute("aria-current"), "page", "the navigation marks Review");
    const q = state.queue;
    const p = q.items[0];
    assert.equal(await pendingShown(page), q.pending, "the pending count is the API's");
    assert.match(await page.locator("#review-pending").innerText(), new RegExp(`${q.pending} pairs wait for review`));
    assert.equal(await pairShown(page), p.pair_id, "the first pair of the queue");
    assert.equal(Number(await page.locator("#review-prob").getAttribute("data-value")), p.probability);
    assert.equal((await page.locator("#review-prob").innerText()).trim(), `${(100 * p.probability).toFixed(1).replace(/\.0$/, "")}%`);
    assert.match(await page.locator("#review-weight").innerText(), /bits$/);
    assert.equal(await page.locator("#review-rule").innerText(), p.blocking_rule);
    // Lineage: file name and row of each side.
    for (const [side, s] of [["a", p.a], ["b", p.b]]) {
      const t = await page.locator(`.lineage[data-side="${side}"]`).innerText();
      assert.ok(t.includes(s.file_name) && t.includes(`row ${s.row}`), `record ${side}: ${t}`);
    }
    // One row per compared attribute, with its level and a class saying
    // whether the two agree (not colour alone: a mark and a word too).
    const cls = { exact: "cmp-agree", else: "cmp-differ", missing: "cmp-missing" };
    for (const [attr, level] of Object.entries(p.levels)) {
      const tr = page.locator(`#review-compare tr[data-attr="${attr}"]`);
      assert.equal(await tr.getAttribute("data-level"), level, `${attr}'s level`);
      const c = await tr.getAttribute("class");
      assert.ok(c.includes(cls[level] || "cmp-close"), `${attr} (${level}): class ${c}`);
      const cells = await tr.locator("td").allInnerTexts();
      const show = (v) => (v === null || v === undefined || v === "" ? "∅" : String(v));
      assert.ok(cells[0].includes(show(p.a.record[attr])), `${attr} of a: ${cells[0]}`);
      assert.ok(cells[1].includes(show(p.b.record[attr])), `${attr} of b: ${cells[1]}`);
      assert.match(cells[2], /agree|differ|similar|missing|\S/, `${attr}: the comparison in words`);
    }
    assert.ok(await page.locator("#review-compare tr.cmp-agree").count() > 0, "some attributes agree");
    assert.ok(await page.locator("#review-compare tr.cmp-differ, #review-compare tr.cmp-close").count() > 0, "some do not quite");
    await a11yCheck(page);
    await noLeakedValues(page);
    await snap(page, "pair");
    // n and the right arrow go on without deciding; p goes back.
    await page.keyboard.press("n");
    assert.equal(await pairShown(page), q.items[1].pair_id, "n: the next pair");
    await page.keyboard.press("p");
    assert.equal(await pairShown(page), p.pair_id, "p: back");
    await page.keyboard.press("ArrowRight");
    assert.equal(await pairShown(page), q.items[1].pair_id, "→: the next pair");
    await page.click("#review-prev");
    assert.equal(await pairShown(page), p.pair_id);
    assert.equal((await api(context, "/api/v1/review")).json.pending, q.pending, "skipping decides nothing");
    noProblems(problems);
  });

  test("r rejects the pair and a accepts the next; the API has both; the note offers a run", async () => {
    const { page, problems, context } = rita;
    const q = state.queue;
    const [rejected, accepted] = q.items;
    await page.keyboard.press("r");
    await page.waitForFunction((id) => Number(document.querySelector("section.review-pair")?.dataset.pairId) !== id, rejected.pair_id);
    assert.equal(await pairShown(page), accepted.pair_id, "after a decision the next pair shows");
    assert.equal(await pendingShown(page), q.pending - 1);
    await page.keyboard.press("a");
    await page.waitForFunction(() => document.querySelectorAll("#review-log li").length === 2);
    assert.equal(await pendingShown(page), q.pending - 2);
    const after = (await api(context, "/api/v1/review?_size=100")).json;
    assert.equal(after.pending, q.pending - 2, "GET /review: the pending count dropped by two");
    const left = after.items.map((x) => x.pair_id);
    assert.ok(!left.includes(rejected.pair_id) && !left.includes(accepted.pair_id), "both left the queue");
    const log = await page.locator("#review-log li").evaluateAll((els) => els.map((e) => [Number(e.dataset.pairId), e.dataset.decision]));
    assert.deepEqual(log, [[rejected.pair_id, "reject"], [accepted.pair_id, "accept"]]);
    assert.match(await page.locator("#apply-h").innerText(), /take effect at the next run/);
    if (after.pending) assert.equal(await pairShown(page), after.items[0].pair_id, "the next pair waiting");
    else assert.match(await page.locator("#review-card").innerText(), /reviewed every pair/);
    await a11yCheck(page);
    await snap(page, "decided");
    state.rejected = rejected;
    state.accepted = accepted;
    noProblems(problems);
  });

  test("a run from the review page applies them: the rejected pair's records apart, the accepted pair's together", async () => {
    const { page, problems, context } = rita;
    await andSettle(page, () => page.click("#review-start-run"));
    const m = /^#\/runs\/([0-9a-f]+)$/.exec(hashOf(page));
    assert.ok(m, `on the run's page: ${hashOf(page)}`);
    assert.equal((await runDone(context, m[1])).state, "done");
    const rej = await pairByLineage(context, state.rejected);
    assert.equal(rej.decision, "rejected");
    assert.equal(rej.decided_by, "person");
    assert.notEqual(rej.a_canonical_id, rej.b_canonical_id, "the rejected pair's records are two customers");
    const acc = await pairByLineage(context, state.accepted);
    assert.equal(acc.decision, "accepted");
    assert.equal(acc.decided_by, "person");
    assert.equal(acc.a_canonical_id, acc.b_canonical_id, "the accepted pair's records are one customer");
    // The same in the dimension the dashboards read.
    const [ra, rb] = [await canonicalOf(context, state.rejected.a), await canonicalOf(context, state.rejected.b)];
    assert.notEqual(ra, rb, "dim_customer: the rejected pair's records have different canonical ids");
    const [aa, ab] = [await canonicalOf(context, state.accepted.a), await canonicalOf(context, state.accepted.b)];
    assert.equal(aa, ab, "dim_customer: the accepted pair's records have the same canonical id");
    assert.equal(acc.a_canonical_id, aa);
    const q = (await api(context, "/api/v1/review?_size=100")).json;
    const keys = (p) => `${p.a.file_id}:${p.a.row}/${p.b.file_id}:${p.b.row}`;
    const waiting = new Set(q.items.map(keys));
    assert.ok(!waiting.has(keys(state.rejected)) && !waiting.has(keys(state.accepted)), "decided pairs do not come back for review");
    state.afterRun = q;
    noProblems(problems);
  });

  test("matching dashboard: counts, blocking rules, weight histogram with thresholds, model, pairs near the threshold", async () => {
    const { page, problems, context } = rita;
    await go(page, "#/dashboards/sales");
    await andSettle(page, () => page.click("#tab-matching"));
    assert.equal(hashOf(page), "#/dashboards/matching");
    const doc = (await api(context, "/api/v1/matching")).json;
    const e = doc.entities.find((x) => x.entity === "customer");
    assert.ok(e, "customers were matched");
    const ui = await tileValues(page);
    assert.equal(ui.pending, String(doc.pending));
    assert.equal(ui.decisions, String(doc.decisions));
    assert.ok(doc.decisions >= 2, "our two decisions are kept");
    const sec = page.locator('section.matching-entity[data-entity="customer"]');
    for (const k of ["records", "pairs_compared", "pairs_matched", "pairs_review", "clusters"]) {
      assert.equal(await sec.locator(`[data-tile="${k}"]`).getAttribute("data-value"), String(e[k]), `tile ${k}`);
    }
    assert.equal(await sec.locator("#hist-customer canvas").count(), 1, "the histogram is drawn");
    assert.match(await page.locator("#thresholds-customer").innerText(), /review from .* bits \(probability 30%\), automatic match from .* bits \(90%\)/);
    // The histogram's figures (the table under it) are the API's bins.
    const histRows = await sec.locator("#hist-customer details.chart-table tbody tr").count();
    assert.equal(histRows, e.histogram.length);
    const total = e.histogram.reduce((s, b) => s + b.count, 0);
    assert.equal(total, e.pairs_compared, "every compared pair is in a bin");
    assert.equal(await sec.locator("table.blocking-rules tbody tr").count(), e.blocking_rules.length);
    assert.equal(await sec.locator(`#model-customer tbody tr`).count(), e.fields.reduce((s, f) => s + f.levels.length, 0), "a row per attribute and level");
    assert.equal(await sec.locator("table.near-threshold tbody tr").count(), e.near_threshold.length);
    // Each near pair links to the review page (waiting) or the data browser.
    const review = e.near_threshold.find((p) => p.decision === "review");
    if (review) assert.equal(await sec.locator(`a[href="#/review?entity=customer&pair=${review.pair_id}"]`).count(), 1);
    const other = e.near_threshold.find((p) => p.decision !== "review");
    if (other) assert.ok(await sec.locator(`a[href="#/data/match_pairs?pair_id__exact=${other.pair_id}"]`).count() >= 1);
    await a11yCheck(page);
    await noLeakedValues(page);
    await snap(page, "matching");
    // A near pair's "Review" link opens that pair.
    if (review) {
      await andSettle(page, () => sec.locator(`a[href="#/review?entity=customer&pair=${review.pair_id}"]`).click());
      await page.waitForSelector("section.review-pair");
      assert.equal(await pairShown(page), review.pair_id, "the linked pair is shown first");
      await go(page, "#/dashboards/matching");
    }
    state.matching = doc;
    noProblems(problems);
  });

  test("matching dashboard: split a cluster, after a confirmation; an unknown cluster says so", async () => {
    const { page, problems, context } = rita;
    const sec = page.locator('section.matching-entity[data-entity="customer"]');
    const btn = sec.locator("button[data-split]").first();
    assert.ok(await btn.count(), "a merged pair near the threshold offers a split");
    const id = Number(await btn.getAttribute("data-split"));
    const joined = await rows(context, "match_pairs", { a_canonical_id__exact: String(id), b_canonical_id__exact: String(id), decision__in: "matched,accepted" });
    await btn.click();
    const dialog = page.locator("dialog[open]");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), new RegExp(`Split customer #${id}\\?`));
    await snap(page, "split-confirm");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal((await api(context, "/api/v1/matching")).json.decisions, state.matching.decisions, "cancel splits nothing");
    await btn.click();
    await page.locator("dialog[open]").getByRole("button", { name: "Split the cluster" }).click();
    const ok = page.locator("#split-msg .alert-success");
    await ok.waitFor();
    assert.equal(Number(await ok.getAttribute("data-rejected")), joined.length, "every pair that joined the cluster is rejected");
    assert.match(await ok.innerText(), /takes effect at the next run/);
    const doc = (await api(context, "/api/v1/matching")).json;
    assert.ok(doc.decisions >= state.matching.decisions + 1, "the split is kept as decisions");
    assert.equal((await tileValues(page)).decisions, String(doc.decisions), "the decisions tile follows");
    // An id no cluster has.
    await sec.locator("#split-customer").fill("987654");
    await sec.locator(".split-form button[type=submit]").click();
    await page.locator("dialog[open]").getByRole("button", { name: "Split the cluster" }).click();
    await page.locator("#split-msg .alert-error").waitFor();
    assert.match(await page.locator("#split-msg").innerText(), /No pair of records joins customer #987654/);
    await snap(page, "split-done");
    noProblems(problems, [HTTP(404)]);
  });

  test("another person has an empty queue and sees none of these pairs", async () => {
    const sam = await openSession(server.url);
    try {
      await signIn(sam.page, "sam", PASSWORD);
      await go(sam.page, "#/review");
      await sam.page.waitForSelector("#review-card .empty");
      assert.match(await sam.page.locator("#review-card").innerText(), /Nothing to review/);
      assert.equal(await pendingShown(sam.page), 0);
      assert.equal((await api(sam.context, "/api/v1/review")).json.pending, 0);
      await a11yCheck(sam.page);
      await snap(sam.page, "empty");
      await go(sam.page, "#/dashboards/matching");
      assert.match(await sam.page.locator("main").innerText(), /Nothing was matched yet/);
      noProblems(sam.problems);
    } finally {
      await sam.close();
    }
  });
});
