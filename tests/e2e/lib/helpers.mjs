// tests/e2e/lib/helpers.mjs - what the end-to-end tests do to a page.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = process.env.CONCORD_E2E_ARTIFACTS || path.resolve(HERE, "..", "artifacts");
export const TIMEOUT = 30000;

/** The render counter of the current view (app.js sets data-seq). */
export function seqOf(page) {
  return page.evaluate(() => Number(document.querySelector("main .view")?.dataset.seq || 0));
}

/** Waits until a view newer than `after` has finished rendering. */
export async function settle(page, after, timeout = TIMEOUT) {
  await page.waitForFunction((p) => {
    const v = document.querySelector("main .view");
    return v && Number(v.dataset.seq) > p && !v.hasAttribute("aria-busy");
  }, after, { timeout });
}

/** Goes to a hash route ("#/files") in the single-page app and waits for it. */
export async function go(page, hash) {
  if (!page.url().startsWith("http")) {
    await page.goto("/" + hash);
    await settle(page, 0);
    return;
  }
  const before = await seqOf(page);
  await page.evaluate((hsh) => {
    if (location.hash === hsh) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = hsh;
  }, hash);
  await settle(page, before);
}

/** Runs `action` (a click...) and waits for the render it causes. */
export async function andSettle(page, action, timeout) {
  const before = await seqOf(page);
  await action();
  await settle(page, before, timeout);
}

export function hashOf(page) {
  return new URL(page.url()).hash;
}

export async function signIn(page, username, password) {
  if (!page.url().startsWith("http")) await go(page, "#/login");
  await page.waitForSelector("#username");
  await page.fill("#username", username);
  await page.fill("#password", password);
  await andSettle(page, () => page.click("form.login button[type=submit]"));
  await page.waitForSelector("#nav:not([hidden])");
}

/** GET an API path with the page's session cookie; returns {status, json, text, headers}. */
export async function api(context, apiPath) {
  const r = await context.request.get(apiPath, { headers: { Accept: "application/json" } });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV etc. */ }
  return { status: r.status(), json, text, body: await r.body(), headers: r.headers() };
}

export async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header stays on top
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Asserts that nothing went wrong in the page: no console errors or
 * warnings, page errors or failed requests, except those `expected`
 * matches (e.g. the 401 a wrong password causes).  Empties the list.
 */
export function noProblems(problems, expected = []) {
  const left = problems.filter((p) => !expected.some((re) => re.test(p)));
  problems.length = 0;
  assert.deepEqual(left, [], "console errors, page errors or failed requests");
}

/** Text that must never reach a person: leaked JavaScript values. */
export async function noLeakedValues(page) {
  const text = await page.evaluate(() => document.querySelector("main").innerText);
  for (const bad of ["undefined", "NaN", "[object Object]", "Invalid Date"]) {
    assert.ok(!text.includes(bad), `the page shows "${bad}"`);
  }
}

/**
 * Basic accessibility checks of the current page: one h1; every visible
 * form control has a label; every button and link has a name; images
 * have alt text; no positive tabindex; ids unique.
 */
export async function a11yCheck(page) {
  const issues = await page.evaluate(() => {
    const out = [];
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && getComputedStyle(el).visibility !== "hidden";
    const name = (el) => (el.getAttribute("aria-label") || "").trim()
      || (el.getAttribute("aria-labelledby") || "").split(/\s+/).map((id) => document.getElementById(id)?.textContent || "").join("").trim()
      || (el.labels && [...el.labels].map((l) => l.textContent).join("").trim())
      || (el.getAttribute("title") || "").trim();
    const h1s = [...document.querySelectorAll("main h1")];
    if (h1s.length !== 1) out.push(`${h1s.length} h1 elements in main`);
    for (const el of document.querySelectorAll("input, select, textarea")) {
      if (el.type === "hidden" || !visible(el)) continue;
      if (!name(el)) out.push(`unlabelled ${el.tagName.toLowerCase()}#${el.id || "?"}`);
    }
    for (const el of document.querySelectorAll("button, a[href]")) {
      if (!visible(el)) continue;
      if (!(el.textContent.trim() || name(el) || el.querySelector("img[alt]:not([alt=''])"))) out.push(`nameless ${el.tagName.toLowerCase()} ${el.outerHTML.slice(0, 80)}`);
    }
    for (const img of document.querySelectorAll("img")) if (!img.hasAttribute("alt")) out.push(`img without alt ${img.src}`);
    for (const el of document.querySelectorAll("[tabindex]")) if (Number(el.getAttribute("tabindex")) > 0) out.push(`positive tabindex on ${el.tagName}`);
    const ids = {};
    for (const el of document.querySelectorAll("[id]")) ids[el.id] = (ids[el.id] || 0) + 1;
    for (const [id, n] of Object.entries(ids)) if (n > 1) out.push(`id ${id} used ${n} times`);
    for (const c of document.querySelectorAll("canvas")) if (!c.getAttribute("aria-label")) out.push("canvas without aria-label");
    return out;
  });
  assert.deepEqual(issues, [], "accessibility checks");
}

/** The tiles of a dashboard: {key: data-value}. */
export function tileValues(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll("[data-tile]")].map((t) => [t.dataset.tile, t.dataset.value])));
}
