// page-schema.js - the target schema: every entity with its attributes
// (type, role, how it is compared), the built-in ones read-only; and the
// workspace's own entities, defined, changed and deleted here
// (/schema/entities).  A 422 puts each reason next to its field
// (errors[].field: "name", "attributes[2]", "blocking[0]"...).
import { get, post, put, del } from "./api.js";
import { h, append, clear, badge, errorBox, notice, confirmDialog, announce, scroller, humanize } from "./dom.js";

const TYPES = ["text", "name", "integer", "decimal", "money", "date", "timestamp", "boolean", "email", "phone",
  "country", "state", "postal_code", "key"];
const ROLES = [
  ["attribute", "attribute"],
  ["natural_key", "natural key"],
  ["alternate_key", "alternate key"],
  ["record_date", "record date"],
];
const COMPARES = [
  ["", "by type"],
  ["name", "name (people's names)"],
  ["text", "text (short text)"],
  ["longtext", "long text (titles, lists)"],
  ["code", "code"],
  ["exact", "exact"],
  ["date", "date"],
  ["number", "number"],
  ["postcode", "postcode"],
  ["email", "e-mail"],
  ["none", "not compared"],
];
const LINKAGE = {
  dedupe: "One source, or sources with duplicates: any records that agree are one entity.",
  one_to_one: "Each source is already without duplicates: a record matches at most one record of each other source.",
};
const ROLE_WORD = Object.fromEntries(ROLES);

export async function render(view, ctx) {
  ctx.setTitle("Schema");
  const msg = h("div", { id: "schema-msg" });
  const ownBox = h("section.section", { "aria-labelledby": "own-h", id: "own-entities" });
  const builtinBox = h("section.section", { "aria-labelledby": "builtin-h", id: "builtin-entities" });
  const formBox = h("section.section", { "aria-labelledby": "entity-form-h" });
  let editing = null; // the name of the entity being changed, or null: a new one

  // ------------------------------------------------------------ the form
  const fName = h("input", { id: "entity-name", required: true, autocomplete: "off", maxlength: "32", pattern: "[a-z][a-z0-9_]*", spellcheck: "false", autocapitalize: "none", "aria-describedby": "entity-name-hint entity-name-err" });
  const fLabel = h("input", { id: "entity-label", maxlength: "80", autocomplete: "off", "aria-describedby": "entity-label-err" });
  const fDesc = h("input", { id: "entity-description", maxlength: "500", autocomplete: "off", "aria-describedby": "entity-description-err" });
  const linkRadios = Object.keys(LINKAGE).map((v) => h("input", { type: "radio", name: "linkage", id: `linkage-${v}`, value: v, checked: v === "dedupe" }));
  const fBlocking = h("textarea", { id: "entity-blocking", rows: "3", spellcheck: "false", "aria-describedby": "entity-blocking-hint entity-blocking-err" });
  const attrsBody = h("tbody", { id: "attrs-body" });
  const err = (id) => h("p.field-error", { id, hidden: true });
  const errs = {
    name: err("entity-name-err"),
    label: err("entity-label-err"),
    description: err("entity-description-err"),
    linkage: err("entity-linkage-err"),
    attributes: err("entity-attributes-err"),
    blocking: err("entity-blocking-err"),
  };
  const saveBtn = h("button.btn.btn-primary", { type: "submit", id: "save-entity" }, "Save entity");
  const cancelBtn = h("button.btn", { type: "button", id: "cancel-edit", hidden: true }, "Cancel");
  const formH = h("h2#entity-form-h", "Define an entity");
  const formMsg = h("div", { id: "entity-form-msg" });
  let rowSeq = 0;

  function option(v, label, sel) {
    return h("option", { value: v, selected: v === sel }, label);
  }

  function addRow(a = {}) {
    const n = ++rowSeq;
    const name = h("input", { id: `attr-name-${n}`, "data-k": "name", value: a.name || "", autocomplete: "off", spellcheck: "false", autocapitalize: "none", "aria-label": "Attribute name" });
    const type = h("select", { id: `attr-type-${n}`, "data-k": "type", "aria-label": "Type" }, TYPES.map((t) => option(t, t, a.type || "text")));
    const role = h("select", { id: `attr-role-${n}`, "data-k": "role", "aria-label": "Role" }, ROLES.map(([v, l]) => option(v, l, a.role || "attribute")));
    const compare = h("select", { id: `attr-compare-${n}`, "data-k": "compare", "aria-label": "Compared" }, COMPARES.map(([v, l]) => option(v, l, a.compare || "")));
    const strong = h("input", { type: "checkbox", id: `attr-strong-${n}`, "data-k": "strong", checked: !!a.strong, "aria-label": "Strong" });
    const syn = h("input", { id: `attr-synonyms-${n}`, "data-k": "synonyms", value: (a.synonyms || []).join(", "), autocomplete: "off", "aria-label": "Synonyms (comma-separated)" });
    const e = h("p.field-error", { id: `attr-err-${n}`, hidden: true });
    for (const c of [name, type, role, compare, syn]) c.setAttribute("aria-describedby", e.id);
    const remove = h("button.btn.btn-small.btn-danger-quiet", { type: "button", "data-k": "remove" }, "Remove");
    const tr = h("tr.attr-row", name.value ? { "data-attr": name.value } : null,
      h("td", name, e), h("td", type), h("td", role), h("td", compare),
      h("td.attr-strong", strong), h("td", syn), h("td", remove));
    tr.errorEl = e;
    name.addEventListener("input", () => { tr.dataset.attr = name.value.trim(); labelRow(tr); });
    remove.addEventListener("click", () => {
      const next = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      relabel();
      announce("Attribute removed.");
      if (next) next.querySelector("input").focus();
      else addBtn.focus();
    });
    attrsBody.append(tr);
    relabel();
    return tr;
  }

  // Each control's accessible name says which row it is in.
  function labelRow(tr) {
    const i = [...attrsBody.children].indexOf(tr) + 1;
    const who = tr.dataset.attr ? `attribute ${i} (${tr.dataset.attr})` : `attribute ${i}`;
    const set = (k, l) => tr.querySelector(`[data-k=${k}]`).setAttribute("aria-label", `${l} of ${who}`);
    set("name", "Name");
    set("type", "Type");
    set("role", "Role");
    set("compare", "How it is compared");
    set("strong", "Strong");
    set("synonyms", "Synonyms (comma-separated)");
    set("remove", "Remove");
  }
  function relabel() {
    for (const tr of attrsBody.children) labelRow(tr);
  }

  const addBtn = h("button.btn.btn-small", { type: "button", id: "add-attribute", onclick: () => { addRow().querySelector("input").focus(); } }, "Add an attribute");

  function fill(def) {
    fName.value = def ? def.name : "";
    fName.readOnly = !!def;
    fLabel.value = def && def.label ? def.label : "";
    fDesc.value = def && def.description ? def.description : "";
    for (const r of linkRadios) r.checked = r.value === ((def && def.linkage) || "dedupe");
    fBlocking.value = def && def.blocking ? def.blocking.join("\n") : "";
    clear(attrsBody);
    if (def) for (const a of def.attributes || []) addRow(a);
    else {
      addRow({ type: "key", role: "natural_key" });
      addRow();
    }
    formH.textContent = def ? `Change ${def.name}` : "Define an entity";
    saveBtn.textContent = def ? "Save changes" : "Save entity";
    cancelBtn.hidden = !def;
    clearErrors();
    clear(formMsg);
  }

  function definition() {
    const def = { name: fName.value.trim() };
    if (fLabel.value.trim()) def.label = fLabel.value.trim();
    if (fDesc.value.trim()) def.description = fDesc.value.trim();
    def.linkage = (linkRadios.find((r) => r.checked) || linkRadios[0]).value;
    def.attributes = [...attrsBody.children].map((tr) => {
      const v = (k) => tr.querySelector(`[data-k=${k}]`);
      const a = { name: v("name").value.trim(), type: v("type").value, role: v("role").value };
      if (v("compare").value) a.compare = v("compare").value;
      if (v("strong").checked) a.strong = true;
      const syn = v("synonyms").value.split(",").map((s) => s.trim()).filter(Boolean);
      if (syn.length) a.synonyms = syn;
      return a;
    });
    const rules = fBlocking.value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (rules.length) def.blocking = rules;
    return def;
  }

  function clearErrors() {
    for (const e of Object.values(errs)) { e.hidden = true; clear(e); }
    for (const tr of attrsBody.children) { tr.errorEl.hidden = true; clear(tr.errorEl); tr.classList.remove("row-invalid"); }
    for (const el of formBox.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  function say(el, text) {
    el.hidden = false;
    el.append(h("span.field-error-line", text));
  }

  // Puts each reason next to its field; the rest on top.  Returns the
  // first control to focus.
  function showErrors(list) {
    clearErrors();
    const rows = [...attrsBody.children];
    let first = null;
    const mark = (el) => { el.setAttribute("aria-invalid", "true"); first ||= el; };
    for (const x of list) {
      const f = x.field || "";
      const detail = x.detail || x.code || "invalid";
      let m;
      if ((m = /^attributes\[(\d+)\]$/.exec(f)) && rows[Number(m[1])]) {
        const tr = rows[Number(m[1])];
        say(tr.errorEl, detail);
        tr.classList.add("row-invalid");
        mark(tr.querySelector("[data-k=name]"));
      } else if ((m = /^blocking(\[\d+\])?$/.exec(f))) {
        const i = m[1] ? Number(m[1].slice(1, -1)) : -1;
        const rules = fBlocking.value.split("\n").map((s) => s.trim()).filter(Boolean);
        say(errs.blocking, i >= 0 && rules[i] ? `“${rules[i]}”: ${detail}` : detail);
        mark(fBlocking);
      } else if (errs[f]) {
        say(errs[f], detail);
        if (f === "name") mark(fName);
        else if (f === "label") mark(fLabel);
        else if (f === "description") mark(fDesc);
        else if (f === "linkage") mark(linkRadios[0]);
        else first ||= attrsBody.querySelector("input") || addBtn;
      } else {
        say(errs.name, detail);
        first ||= fName;
      }
    }
    return first;
  }

  const form = h("form.card", { id: "entity-form", "aria-labelledby": "entity-form-h", novalidate: true },
    formH,
    h("p.hint", "An entity of your own: the mapper proposes your files' columns onto it, and each run cleans, matches and loads it into the table dim_<name>."),
    h("div.form-grid.entity-fields",
      h("div.field", h("label", { for: "entity-name" }, "Name"), fName,
        h("p#entity-name-hint.hint", "snake_case, e.g. publication; the table is dim_<name>. It cannot be changed later."), errs.name),
      h("div.field", h("label", { for: "entity-label" }, "Label (optional)"), fLabel, errs.label),
      h("div.field", h("label", { for: "entity-description" }, "Description (optional)"), fDesc, errs.description)),
    h("fieldset.linkage", { "aria-describedby": "entity-linkage-err" },
      h("legend", "Linkage"),
      linkRadios.map((r) => h("div.linkage-choice", r,
        h("label", { for: r.id }, h("strong", r.value === "dedupe" ? "Deduplicate" : "One to one"), " — ", LINKAGE[r.value]))),
      errs.linkage),
    h("h3#attrs-h", "Attributes"),
    h("p.hint", "Exactly one natural key, of type key (the record's identifier in its source). At most 32 attributes. Strong: records with different values are never one entity."),
    scroller(h("table.data.attrs", { id: "attrs-table", "aria-labelledby": "attrs-h" },
      h("thead", h("tr", ["Name", "Type", "Role", "Compared", "Strong", "Synonyms (comma-separated)", ""].map((t) => h("th", { scope: "col" }, t || h("span.visually-hidden", "Actions"))))),
      attrsBody), "Attributes"),
    errs.attributes,
    h("p", addBtn),
    h("div.field.blocking-field", h("label", { for: "entity-blocking" }, "Blocking rules (optional, one per line)"), fBlocking,
      h("p#entity-blocking-hint.hint", "Which records are compared at all: attr[:fn] or attr[:fn]+attr[:fn], fn one of exact, first3, soundex, year, local; e.g. title:first3+year. Left empty: chosen from the attributes."),
      errs.blocking),
    formMsg,
    h("div.form-actions", saveBtn, cancelBtn));

  cancelBtn.addEventListener("click", () => {
    editing = null;
    fill(null);
    fName.focus();
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(msg);
    clear(formMsg);
    clearErrors();
    const def = definition();
    saveBtn.disabled = true;
    try {
      const was = editing;
      const doc = was ? await put(`/schema/entities/${encodeURIComponent(was)}`, def) : await post("/schema/entities", def);
      const name = doc.entity ? doc.entity.name : def.name;
      editing = null;
      fill(null);
      await showList();
      msg.append(h("div.alert.alert-success", { role: "status", id: "entity-saved" },
        h("p.alert-title", was ? `${name} was changed.` : `${name} was defined.`),
        h("p", "The mapper now proposes your files' columns onto ", h("code", name),
          ", and the next run builds the table ", h("code", `dim_${name}`), "."),
        h("p", h("a", { href: "#/files", id: "saved-files" }, "Upload or map files"), " · ",
          h("a", { href: `#/data/dim_${name}`, id: "saved-data" }, `See dim_${name} in the data browser`))));
      announce(`${name} was saved.`);
      msg.scrollIntoView({ block: "nearest" });
    } catch (err) {
      if (err.status === 422 && err.errors.length) {
        const first = showErrors(err.errors);
        formMsg.append(errorBox(err, "The entity was not saved", `Please correct ${err.errors.length === 1 ? "this" : `these ${err.errors.length} things`}; nothing was stored:`));
        const box = formMsg.lastChild;
        box.append(h("ul", err.errors.map((x) => h("li", `${where(x.field)}${x.detail}`))));
        if (first) first.focus();
      } else if (err.status === 409) {
        say(errs.name, `You already have an entity named ${def.name}: choose another name, or change that one.`);
        fName.setAttribute("aria-invalid", "true");
        formMsg.append(errorBox(err, "The entity was not saved"));
        fName.focus();
      } else {
        formMsg.append(errorBox(err, "The entity was not saved"));
      }
    } finally {
      saveBtn.disabled = false;
    }
  });

  function where(field) {
    const m = /^attributes\[(\d+)\]$/.exec(field || "");
    if (m) {
      const tr = attrsBody.children[Number(m[1])];
      const n = tr && tr.dataset.attr;
      return `Attribute ${Number(m[1]) + 1}${n ? ` (${n})` : ""}: `;
    }
    const b = /^blocking\[(\d+)\]$/.exec(field || "");
    if (b) return `Blocking rule ${Number(b[1]) + 1}: `;
    return field ? `${humanize(field)}: ` : "";
  }

  // ------------------------------------------------------------ the list
  async function edit(name) {
    clear(msg);
    try {
      const doc = await get(`/schema/entities/${encodeURIComponent(name)}`, { signal: ctx.signal });
      editing = name;
      fill(doc.entity);
      formBox.scrollIntoView({ block: "start" });
      fLabel.focus();
    } catch (err) {
      if (err.name === "AbortError") return;
      msg.append(errorBox(err, `${name} cannot be changed`));
    }
  }

  async function remove(name) {
    clear(msg);
    const ok = await confirmDialog({
      title: `Delete the entity ${name}?`,
      text: `Its definition goes. Mappings onto ${name} no longer load, and the next run no longer builds dim_${name}. Your files are kept.`,
      confirm: "Delete",
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/schema/entities/${encodeURIComponent(name)}`);
      if (editing === name) { editing = null; fill(null); }
      await showList();
      msg.append(notice(`${name} was deleted.`, "success"));
      msg.lastChild.id = "entity-deleted";
      announce(`${name} was deleted.`);
    } catch (err) {
      msg.append(errorBox(err, `${name} was not deleted`));
    }
  }

  // ent: from /schema; def: the stored definition of an entity of yours
  // (what was set explicitly: a comparison left out is "by type").
  function entityCard(ent, def) {
    const id = `entity-${ent.name}`;
    const attrs = ent.attributes || [];
    const given = Object.fromEntries(((def && def.attributes) || []).map((a) => [a.name, a]));
    const compared = (a) => {
      const d = given[a.name];
      if (d && !d.compare) return h("span.muted", a.compare ? `by type (${a.compare})` : "by type");
      return a.compare ? a.compare : h("span.muted", "by type");
    };
    const synonyms = (a) => (given[a.name] && given[a.name].synonyms ? given[a.name].synonyms : []);
    return h("section.card.entity", { "aria-labelledby": id + "-h", "data-entity": ent.name, "data-custom": ent.custom ? "true" : "false" },
      h("div.entity-head",
        h("h3", { id: id + "-h" }, ent.label && ent.label !== ent.name ? `${ent.label} ` : "", h("code", ent.name)),
        ent.custom ? badge("yours", "custom") : badge("built-in", "builtin"),
        ent.fact ? badge("fact", "fact") : null,
        ent.custom ? h("span.row-actions.entity-actions",
          h("button.btn.btn-small", { type: "button", "data-action": "edit", onclick: () => edit(ent.name), "aria-label": `Change ${ent.name}` }, "Change"),
          h("button.btn.btn-small.btn-danger-quiet", { type: "button", "data-action": "delete", onclick: () => remove(ent.name), "aria-label": `Delete ${ent.name}` }, "Delete")) : null),
      ent.description ? h("p.muted", ent.description) : null,
      ent.custom ? h("p.small", h("strong", "Linkage: "), ent.linkage === "one_to_one" ? "one to one — " : "deduplicate — ",
        LINKAGE[ent.linkage || "dedupe"], " Table: ", h("a", { href: `#/data/dim_${ent.name}` }, h("code", `dim_${ent.name}`))) : null,
      def ? h("p.small.entity-blocking", h("strong", "Blocking: "),
        def.blocking && def.blocking.length ? def.blocking.map((r, i) => [i ? ", " : "", h("code", r)]) : "chosen from the attributes") : null,
      scroller(h("table.data.schema-attrs",
        h("caption.visually-hidden", `Attributes of ${ent.name}`),
        h("thead", h("tr", ["Attribute", "Type", "Role", "Compared", def ? "Synonyms" : null, "Description"].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", attrs.map((a) => h("tr", { "data-attr": a.name },
          h("th", { scope: "row" }, h("code", a.name), a.strong ? [" ", badge("strong", "strong")] : null),
          h("td", a.type, a.code_list ? h("span.muted", ` (${a.code_list})`) : null),
          h("td", ROLE_WORD[a.role] || String(a.role || "attribute").replace(/_/g, " "), a.references ? h("span.muted", ` → ${a.references}`) : null),
          h("td", compared(a)),
          def ? h("td", synonyms(a).join(", ")) : null,
          h("td", a.description || ""))))), `Attributes of ${ent.name}`));
  }

  async function showList() {
    const [doc, defsDoc] = await Promise.all([get("/schema", { signal: ctx.signal }), get("/schema/entities", { signal: ctx.signal })]);
    const ents = doc.entities || [];
    const defs = Object.fromEntries((defsDoc.entities || []).map((d) => [d.name, d]));
    const own = ents.filter((e) => e.custom);
    const builtin = ents.filter((e) => !e.custom);
    append(clear(ownBox), [h("h2#own-h", "Your entities"),
      own.length ? own.map((e) => entityCard(e, defs[e.name] || { attributes: [] }))
        : h("p.muted", { id: "no-own" }, "None yet. Define one below: two publication lists, two catalogues that do not fit the sales schema.")]);
    append(clear(builtinBox), [h("h2#builtin-h", "Built-in entities"),
      h("p.hint", "The sales schema every workspace has; read-only."),
      builtin.map((e) => entityCard(e, null))]);
  }

  fill(null);
  formBox.append(form);
  view.append(h("h1", "Target schema"),
    h("p.lead", "The entities Concord reconciles your files into: each attribute's type decides how it is cleaned, its role what identifies a record, and its comparison how two records are matched."),
    msg, ownBox, formBox, builtinBox);
  if (ctx.flash) { msg.append(ctx.flash); }
  await showList();
}
