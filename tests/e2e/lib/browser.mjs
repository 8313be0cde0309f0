// tests/e2e/lib/browser.mjs - headless Chromium (Debian's `chromium`
// package) driven by playwright-core.  Each session is its own Chromium
// process with a new empty --user-data-dir (so its own cookies): two
// sessions are two people at two browsers.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CONCORD_CHROMIUM || "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/**
 * Opens a browser session on baseURL.  Returns {context, page, problems,
 * close()}; `problems` collects console errors and warnings, uncaught page
 * errors and failed requests (a page under test should leave it empty).
 */
export async function openSession(baseURL, { viewport = { width: 1366, height: 800 } } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "concord-chromium-"));
  let context;
  try {
    // launchPersistentContext passes `profile` as --user-data-dir itself
    // (Playwright refuses the flag in args).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      baseURL,
      viewport,
      acceptDownloads: true,
      reducedMotion: "reduce",
      timeout: 60000,
    });
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()} ${m.location() ? m.location().url || "" : ""}`.trim());
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    const why = r.failure() ? r.failure().errorText : "";
    if (why !== "net::ERR_ABORTED") problems.push(`request failed: ${r.method()} ${r.url()} ${why}`);
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
