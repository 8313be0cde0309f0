// util.js - small helpers shared by the pages (API look-ups many pages need).
import { get, getAll } from "./api.js";

/** Every file of the signed-in user, in upload order. */
export function listFiles(signal) {
  return getAll("/files?_size=100", "files", { signal });
}

/** Runs `fn` over items with at most `limit` at a time; keeps the order. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let i = 0;
  const worker = async () => {
    while (i < items.length) {
      const k = i++;
      try {
        out[k] = await fn(items[k], k);
      } catch (e) {
        if (e.name === "AbortError") throw e;
        out[k] = { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The mapping state ("confirmed" | "proposed" | null) of each file, by
 * id; with warnings (an object), also what a run would do with each
 * mapping (the service's mapping warnings), by id. */
export async function mappingStates(files, signal, warnings) {
  const states = await pool(files, 4, async (f) => {
    const doc = await get(`/files/${encodeURIComponent(f.id)}/mapping`, { signal });
    if (warnings) warnings[f.id] = doc.warnings || [];
    return doc.mapping ? doc.mapping.state : null;
  });
  const out = {};
  files.forEach((f, i) => { out[f.id] = states[i] && states[i].error ? null : states[i]; });
  return out;
}

export const ACTIVE_RUN = new Set(["queued", "running"]);

export function shortId(id) {
  return String(id || "").slice(0, 8);
}

/** Query string from an object, skipping empty values. */
export function qs(obj) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || v === undefined || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else p.set(k, v);
  }
  const s = p.toString();
  return s ? "?" + s : "";
}

/**
 * Runs a page's background work (a timer's refresh, a poll) so that its
 * end by leaving the page or signing out (an AbortError, a 401) is no
 * error; anything else is logged as the defect it is.
 */
export function background(fn) {
  return Promise.resolve().then(fn).catch((e) => {
    if (e && (e.name === "AbortError" || e.status === 401)) return;
    console.error("background work failed", e);
  });
}
