// page-files.js - upload (drag and drop or picker, several at once, each
// with its own progress bar) and the list of files.
import { upload, uploadType, del, BASE } from "./api.js";
import { h, clear, fmtInt, fmtBytes, fmtTime, badge, emptyState, errorBox, loading, confirmDialog, announce, scroller } from "./dom.js";
import { listFiles, mappingStates, background } from "./util.js";

const PARALLEL = 3;

export async function render(view, ctx) {
  ctx.setTitle("Files");
  const listBox = h("section.section", { "aria-labelledby": "files-h" });
  const queue = h("ul.uploads", { "aria-label": "Uploads" });
  const input = h("input.visually-hidden", {
    id: "file-input", type: "file", multiple: true, tabindex: "-1", "aria-label": "Choose files to upload",
    accept: ".csv,.tsv,.txt,.json,.ndjson,.jsonl,.xlsx,text/csv,application/json",
  });
  const pick = h("button.btn.btn-primary", { type: "button", id: "pick", onclick: () => input.click() }, "Choose files…");
  const drop = h("div.dropzone", { id: "dropzone" },
    h("p.dropzone-title", "Drop files here to upload them"),
    h("p", "or ", pick),
    h("p.small.muted", "CSV, JSON, NDJSON or Excel (.xlsx, the first sheet) exports, several at once. Each file is checked as it arrives: a broken file is refused with the line where the problem is."),
    input);

  let pending = [];
  let running = 0;
  const summary = h("p.queue-summary", { id: "upload-summary" });
  const clearBtn = h("button.btn.btn-small.btn-quiet", { type: "button", hidden: true, onclick: () => {
    for (const li of queue.querySelectorAll("li.upload-done, li.upload-failed")) li.remove();
    updateSummary();
  } }, "Clear the finished uploads");
  const queueHead = h("div.queue-head", { hidden: true }, summary, clearBtn);
  function updateSummary() {
    const all = queue.querySelectorAll("li.upload").length;
    const done = queue.querySelectorAll("li.upload-done").length;
    const failed = queue.querySelectorAll("li.upload-failed").length;
    const busy = all - done - failed;
    queueHead.hidden = all === 0;
    clearBtn.hidden = busy > 0 || all === 0;
    const waiting = pending.length;
    summary.textContent = busy
      ? [`${done} of ${all} uploaded`, failed ? `${failed} refused` : "", `${busy - waiting} uploading`, waiting ? `${waiting} waiting` : ""].filter(Boolean).join(", ") + "…"
      : `${done} uploaded${failed ? `, ${failed} refused` : ""}.`;
  }
  let refreshTimer = null;

  const refreshSoon = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => ctx.alive && background(showList), 300);
  };
  ctx.onCleanup(() => clearTimeout(refreshTimer));

  function enqueue(fileList) {
    const files = Array.from(fileList || []);
    if (!files.length) return;
    for (const f of files) {
      const bar = h("progress", { max: "100", value: "0", "aria-label": `Upload of ${f.name}` });
      const status = h("span.upload-status", "Waiting…");
      const li = h("li.upload", { "data-name": f.name },
        h("div.upload-head", h("span.upload-name", f.name), h("span.small.muted", fmtBytes(f.size))),
        bar, status);
      queue.append(li);
      if (!uploadType(f.name)) {
        li.classList.add("upload-failed");
        bar.value = 0;
        status.replaceChildren(h("strong", "Not uploaded: "), "only .csv, .json, .ndjson and .xlsx files can be read.");
        continue;
      }
      pending.push({ file: f, li, bar, status });
    }
    announce(`${files.length} ${files.length === 1 ? "file" : "files"} added to the uploads.`);
    updateSummary();
    pump();
  }

  function pump() {
    while (running < PARALLEL && pending.length) {
      const job = pending.shift();
      running++;
      start(job).finally(() => {
        running--;
        updateSummary();
        pump();
        refreshSoon();
      });
    }
  }

  async function start({ file, li, bar, status }) {
    li.classList.add("upload-active");
    updateSummary();
    status.textContent = "Uploading… 0%";
    const { promise, abort } = upload(file, (sent, total) => {
      const pct = total ? Math.floor((sent / total) * 100) : 0;
      bar.value = pct;
      status.textContent = sent >= total ? "Checking and profiling the file…" : `Uploading… ${pct}%`;
    });
    ctx.onCleanup(() => { if (li.classList.contains("upload-active")) abort(); });
    try {
      const doc = await promise;
      bar.value = 100;
      li.classList.remove("upload-active");
      li.classList.add("upload-done");
      const f = doc.file || {};
      status.replaceChildren(
        h("strong", doc.duplicate ? "Already uploaded: " : "Uploaded: "),
        `${fmtInt(f.rows)} rows, ${fmtInt(f.columns)} columns. `,
        f.id ? h("a", { href: `#/files/${f.id}/mapping` }, "Review its mapping") : null);
      announce(`${file.name} uploaded.`);
    } catch (err) {
      li.classList.remove("upload-active");
      if (err.name === "AbortError") return;
      li.classList.add("upload-failed");
      status.replaceChildren(h("strong", "Refused: "), err.plain);
      announce(`${file.name} was refused. ${err.plain}`);
    }
  }

  input.addEventListener("change", () => {
    enqueue(input.files);
    input.value = "";
  });
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
      drop.classList.add("dropzone-over");
    });
  }
  drop.addEventListener("dragleave", (e) => {
    if (!drop.contains(e.relatedTarget)) drop.classList.remove("dropzone-over");
  });
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("dropzone-over");
    enqueue(e.dataTransfer.files);
  });
  // A file dropped next to the zone would make the browser open it.
  const stray = (e) => { if (!drop.contains(e.target)) e.preventDefault(); };
  window.addEventListener("dragover", stray);
  window.addEventListener("drop", stray);
  ctx.onCleanup(() => {
    window.removeEventListener("dragover", stray);
    window.removeEventListener("drop", stray);
  });

  async function remove(f) {
    const ok = await confirmDialog({
      title: `Delete ${f.name}?`,
      text: "The file, its profile and its mapping are deleted. Tables built by earlier runs keep their rows until the next run.",
      confirm: "Delete file",
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/files/${encodeURIComponent(f.id)}`);
      announce(`${f.name} deleted.`);
      await showList();
      document.getElementById("files-h")?.focus();
    } catch (err) {
      listBox.prepend(errorBox(err, `${f.name} could not be deleted`));
    }
  }

  async function showList() {
    const files = await listFiles(ctx.signal);
    const states = files.length ? await mappingStates(files, ctx.signal) : {};
    if (!ctx.alive) return;
    clear(listBox).append(h("h2#files-h", { tabindex: "-1" }, "Your files"));
    if (!files.length) {
      listBox.append(emptyState("No files yet.", "Upload the exports of your systems above — for example a CRM's customer list and an ERP's sales. Concord reads CSV, JSON and NDJSON."));
      return;
    }
    const unconfirmed = files.filter((f) => states[f.id] !== "confirmed");
    listBox.append(h("p.muted", unconfirmed.length
      ? [`${fmtInt(unconfirmed.length)} of ${fmtInt(files.length)} mappings still to review. `, h("a", { href: `#/files/${unconfirmed[0].id}/mapping` }, "Review the next one")]
      : ["All mappings are confirmed. ", h("a", { href: "#/runs" }, "Run the reconciliation")]));
    const cols = [
      { label: "Name", value: (f) => h("a", { href: `#/files/${f.id}` }, f.name) },
      { label: "Status", value: (f) => badge(f.status) },
      { label: "Mapping", value: (f) => states[f.id] === "confirmed" ? badge("confirmed") : h("a", { href: `#/files/${f.id}/mapping` }, badge("to review", "proposed")) },
      { label: "Format", value: (f) => (f.format || "").toUpperCase() },
      { label: "Size", numeric: true, value: (f) => fmtBytes(f.size) },
      { label: "Rows", numeric: true, value: (f) => fmtInt(f.rows) },
      { label: "Columns", numeric: true, value: (f) => fmtInt(f.columns) },
      { label: "Uploaded", class: "nowrap", value: (f) => h("time", { datetime: f.uploaded_at }, fmtTime(f.uploaded_at)) },
      {
        label: "Actions", class: "actions-cell", value: (f) => h("span.row-actions",
          h("a.btn.btn-small", { href: `#/files/${f.id}`, "aria-label": `Profile of ${f.name}` }, "Profile"),
          h("a.btn.btn-small", { href: `#/files/${f.id}/mapping`, "aria-label": `Mapping of ${f.name}` }, "Mapping"),
          h("a.btn.btn-small", { href: `${BASE}/files/${f.id}/raw`, download: f.name, "aria-label": `Download ${f.name}` }, "Download"),
          h("button.btn.btn-small.btn-danger-quiet", { type: "button", "aria-label": `Delete ${f.name}`, onclick: () => remove(f) }, "Delete")),
      },
    ];
    const t = h("table.data",
      h("caption.visually-hidden", "Uploaded files"),
      h("thead", h("tr", cols.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)))),
      h("tbody", files.map((f) => h("tr", { "data-file": f.name, "data-id": f.id },
        cols.map((c) => h("td", { class: c.numeric ? "num" : c.class || null }, c.value(f)))))));
    listBox.append(scroller(t, "Uploaded files"));
  }

  view.append(h("h1", "Files"),
    h("p.lead", "Upload the exports of your systems. Concord profiles each file — columns, types, empty values — and proposes how its columns map onto customers, products and orders."),
    h("section.section", { "aria-label": "Upload" }, drop, queueHead, queue),
    listBox);
  listBox.append(loading());
  await showList();
}
