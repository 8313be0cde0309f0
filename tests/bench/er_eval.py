#!/usr/bin/env python3
"""er_eval.py - helper of tests/bench/er_bench.sh (a measuring program, not
a test).  Python standard library only.

  er_eval.py confirm WORKSPACE.db FILE_ID MAPPING.json
      Stores the mapping a user would confirm for a registered file: the
      document map_validate() builds from PUT /api/v1/files/{id}/mapping
      (mapper "user", state "confirmed", every column with confidence 1.0
      and the evidence "confirmed by a person", target null when unmapped)
      in the workspace's `mappings` table, as registry_mapping_put() does,
      and marks the file "mapped".  MAPPING.json: {"source column":
      "entity.attribute", ...}; columns not named stay unmapped.

  er_eval.py eval --model MODEL.db --entity E --run RUN.json
                  (--file FILE_ID PATH [--id-col C | --label-col C |
                   --label-file T.csv])... [--pairs P.csv] [--skip-space]
      Pairwise precision, recall and F1 of the clusters of a run: a source
      row's cluster is stg_<E>._key of the staging row with its lineage
      (_file_id, _row; _row is the 1-based data row of the file); the true
      clusters come from the files themselves, read here independently of
      Concord:
        --label-col C    rows with the same value of column C are one entity
        --label-file T   T.csv holds one label per data row (column "label")
        --id-col C       the record's id is column C; --pairs P.csv lists the
                         true pairs of ids (first column: an id of the first
                         --file, second column: an id of the second --file,
                         or of the first when there is one file); the true
                         clusters are their transitive closure
      Prints one JSON object: records, true/predicted pairs, TP, precision,
      recall, F1, pairs compared (from the run's report), clusters.

  er_eval.py gen N SEED OUT.csv TRUTH.csv
      Writes N synthetic person records with duplicates (see gen()).
"""
import csv
import json
import random
import sqlite3
import sys
import time

csv.field_size_limit(1 << 30)


def confirm(ws, fid, mapping_path):
    with open(mapping_path) as f:
        m = json.load(f)
    db = sqlite3.connect(ws)
    row = db.execute("SELECT header_fingerprint FROM files WHERE id = ?", (fid,)).fetchone()
    if row is None:
        sys.exit("er_eval: no file %s in %s" % (fid, ws))
    cols, ents, seen = [], [], set()
    names = [n for _, n in db.execute("SELECT ordinal, name FROM file_columns WHERE file_id = ?"
                                      " ORDER BY ordinal", (fid,))]
    for k in m:
        if k not in names:
            sys.exit("er_eval: %s is not a column of file %s (%s)" % (k, fid, names))
    for o, n in enumerate(names, 1):
        t = m.get(n)
        cols.append({"ordinal": o, "source": n, "target": t, "confidence": 1.0,
                     "evidence": ["confirmed by a person"]})
        if t is not None and t.split(".")[0] not in seen:
            seen.add(t.split(".")[0])
            ents.append({"name": t.split(".")[0], "confidence": 1.0, "evidence": ["confirmed by a person"]})
    doc = {"mapper": "user", "state": "confirmed", "threshold": 0.5, "entities": ents, "columns": cols}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    db.execute("INSERT INTO mappings (file_id, header_fingerprint, state, mapper, document, updated_at)"
               " VALUES (?1, ?2, 'confirmed', 'user', ?3, ?4) ON CONFLICT (file_id) DO UPDATE"
               " SET state = 'confirmed', mapper = 'user', document = ?3, updated_at = ?4",
               (fid, row[0], json.dumps(doc, separators=(",", ":")), now))
    db.execute("UPDATE files SET status = 'mapped' WHERE id = ? AND status = 'profiled'", (fid,))
    db.commit()
    db.close()


def read_rows(path, skip_space):
    """The data rows of a CSV file as dicts (header names trimmed)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        data = f.read()
    if data.startswith("\ufeff"):
        data = data[1:]
    r = csv.reader(data.splitlines(True), skipinitialspace=skip_space)
    header = [h.strip() for h in next(r)]
    rows = []
    for rec in r:
        if not rec or (len(rec) == 1 and rec[0].strip() == ""):
            continue
        rows.append(dict(zip(header, (v.strip() for v in rec))))
    return rows


class UF:
    def __init__(self):
        self.p = {}

    def find(self, x):
        p = self.p
        p.setdefault(x, x)
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def unite(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.p[b] = a


def c2(n):
    return n * (n - 1) // 2


def evaluate(args):
    model = entity = runjson = pairs = None
    files, skip = [], False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--model":
            model = args[i + 1]; i += 2
        elif a == "--entity":
            entity = args[i + 1]; i += 2
        elif a == "--run":
            runjson = args[i + 1]; i += 2
        elif a == "--pairs":
            pairs = args[i + 1]; i += 2
        elif a == "--skip-space":
            skip = True; i += 1
        elif a == "--file":
            files.append({"id": args[i + 1], "path": args[i + 2]}); i += 3
        elif a in ("--id-col", "--label-col", "--label-file"):
            files[-1][a[2:]] = args[i + 1]; i += 2
        else:
            sys.exit("er_eval: unknown argument %s" % a)
    # the truth: a label per (file, row)
    truth = {}
    uf = UF()
    ids = []
    for k, f in enumerate(files):
        rows = read_rows(f["path"], skip)
        f["rows"] = len(rows)
        if "label-file" in f:
            labels = [r["label"] for r in read_rows(f["label-file"], False)]
            if len(labels) != len(rows):
                sys.exit("er_eval: %s has %d labels for %d rows" % (f["label-file"], len(labels), len(rows)))
            for n, lab in enumerate(labels, 1):
                truth[(f["id"], n)] = ("L", lab)
        elif "label-col" in f:
            for n, r in enumerate(rows, 1):
                truth[(f["id"], n)] = ("L", r[f["label-col"]])
        else:
            m = {}
            for n, r in enumerate(rows, 1):
                key = (k, r[f["id-col"]])
                if key in m:
                    sys.exit("er_eval: id %r twice in %s" % (key[1], f["path"]))
                m[key] = n
                truth[(f["id"], n)] = key
            ids.append(m)
    listed = 0
    if pairs is not None:
        for r in read_rows(pairs, False):
            v = list(r.values())
            a, b = (0, v[0]), (1 if len(ids) > 1 else 0, v[1])
            if a not in ids[a[0]] or b not in ids[b[0]]:
                continue    # a pair naming a record outside the subset
            uf.unite(a, b)
            listed += 1
    tlabel = {k: (uf.find(v) if v[0] != "L" else v) for k, v in truth.items()}
    # the prediction: _key per staging row
    db = sqlite3.connect("file:%s?mode=ro" % model, uri=True)
    pred = {}
    for fid, row, key in db.execute('SELECT _file_id, _row, _key FROM "stg_%s"' % entity):
        pred[(fid, row)] = key
    db.close()
    missing = 0
    cells, tsz, psz = {}, {}, {}
    for k, t in tlabel.items():
        p = pred.get(k)
        if p is None:
            missing += 1
            p = ("missing", k)
        cells[(p, t)] = cells.get((p, t), 0) + 1
        tsz[t] = tsz.get(t, 0) + 1
        psz[p] = psz.get(p, 0) + 1
    tp = sum(c2(n) for n in cells.values())
    tpairs = sum(c2(n) for n in tsz.values())
    ppairs = sum(c2(n) for n in psz.values())
    prec = tp / ppairs if ppairs else 1.0
    rec = tp / tpairs if tpairs else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    out = {"records": len(tlabel), "records_not_staged": missing, "true_pairs": tpairs,
           "true_pairs_listed": listed if pairs else None, "predicted_pairs": ppairs, "tp": tp,
           "precision": prec, "recall": rec, "f1": f1, "true_clusters": len(tsz),
           "predicted_clusters": len(psz)}
    if runjson:
        with open(runjson) as f:
            run = json.load(f)
        mt = (run.get("counts") or {}).get("matching", {}).get(entity, {})
        out["pairs_compared"] = mt.get("pairs_compared")
        out["pairs_matched"] = mt.get("pairs_matched")
        out["pairs_review"] = mt.get("pairs_review")
        out["identity_merges"] = mt.get("identity_merges")
        out["blocking_rules"] = mt.get("blocking_rules")
        out["truncated"] = bool(mt.get("truncated", False))
        out["timings_ms"] = run.get("timings_ms")
        out["state"] = run.get("state")
    print(json.dumps(out))


# ---- the synthetic person generator -------------------------------------

FIRST = ("james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan "
         "joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony margaret "
         "mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin "
         "amanda brian dorothy george melissa timothy deborah ronald stephanie edward rebecca jason sharon "
         "jeffrey laura ryan cynthia jacob kathleen gary amy nicholas angela eric shirley jonathan anna stephen "
         "brenda larry pamela justin emma scott nicole brandon helen benjamin samantha samuel katherine gregory "
         "christine alexander debra frank rachel patrick carolyn raymond janet jack catherine dennis maria jerry "
         "heather tyler diane aaron ruth jose julie adam olivia nathan joyce henry virginia douglas victoria "
         "zachary kelly peter lauren kyle christina ethan joan walter evelyn noah judith jeremy megan christian "
         "andrea keith cheryl roger hannah terry jacqueline gerald martha harold gloria sean teresa austin ann "
         "carl sara arthur madison lawrence frances dylan kathryn jesse janice jordan jean bryan abigail billy "
         "alice joe julia bruce judy gabriel sophia logan grace albert denise willie amber alan doris juan "
         "marilyn wayne danielle elijah beverly randy isabella roy theresa vincent diana ralph natalie eugene "
         "brittany russell charlotte bobby marie mason kayla philip alexis louis lori").split()
LAST = ("smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez "
        "wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark "
        "ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams "
        "nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker "
        "cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper "
        "peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james "
        "bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster").split()
SYL = ("ba be bi bo bu ca co da de di do du el en er fa fe fi fo ga ge gi go ha he hi ho ka ke ki ko la le "
       "li lo lu ma me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so ta te ti to tu va ve "
       "vi vo wa we wi ya yo za ze zi zo an ar at ol or us in on ber man son ton ley ford field wood").split()
STREETS = "street road avenue lane drive court place crescent way terrace".split()
STATES = "nsw vic qld wa sa tas act nt".split()
DOMAINS = "example.com mail.test inbox.test post.test webmail.test".split()


def zipf_pick(r, seq, s=1.0):
    # inverse-CDF over precomputed cumulative weights
    return seq[min(len(seq) - 1, int(len(seq) * (r.random() ** (1 + s))))]


def typo(r, s):
    if len(s) < 2:
        return s + r.choice("aeiou")
    i = r.randrange(len(s) - 1)
    op = r.randrange(4)
    if op == 0:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]          # transposition
    if op == 1:
        return s[:i] + s[i + 1:]                            # deletion
    if op == 2:
        return s[:i] + r.choice("abcdefghijklmnopqrstuvwxyz") + s[i:]   # insertion
    return s[:i] + r.choice("abcdefghijklmnopqrstuvwxyz") + s[i + 1:]   # substitution


def gen(n, seed, out_path, truth_path):
    """N records of people, some of them entered 2-4 times.  A person: first
    and last name (a common name list with a long tail of made-up
    surnames, skewed frequencies), birth date, e-mail, address, city,
    postcode, state.  Each person has 0 (60%), 1 (25%), 2 (10%) or 3 (5%)
    further records; each further record has one or two of: a typo in a
    name, first and last name swapped, a missing value (birth date,
    e-mail, address or city), day and month transposed (or a digit
    mistyped) in the birth date, another e-mail domain.  Records are
    shuffled; rec_id is unique per record (a record id, not a person id).
    The truth file has the person of each data row."""
    r = random.Random(seed)
    surnames = LAST + sorted({"".join(r.choice(SYL) for _ in range(r.randint(2, 3)))
                              for _ in range(max(2000, n // 20))})
    cities = sorted({("".join(r.choice(SYL) for _ in range(r.randint(2, 3)))) for _ in range(800)})
    city_pc = {c: "%04d" % r.randint(800, 7999) for c in cities}
    city_st = {c: r.choice(STATES) for c in cities}
    recs = []
    person = 0
    while len(recs) < n:
        person += 1
        fn, ln = zipf_pick(r, FIRST, 0.8), zipf_pick(r, surnames, 0.5)
        y, mo, d = r.randint(1930, 2005), r.randint(1, 12), r.randint(1, 28)
        city = zipf_pick(r, cities, 0.6)
        base = {"first_name": fn, "last_name": ln, "birth_date": "%04d-%02d-%02d" % (y, mo, d),
                "email": "%s.%s%d@%s" % (fn, ln, r.randint(1, 999), r.choice(DOMAINS)),
                "address": "%d %s %s" % (r.randint(1, 300), "".join(r.choice(SYL) for _ in range(2)),
                                         r.choice(STREETS)),
                "city": city, "postal_code": city_pc[city], "state": city_st[city]}
        recs.append((person, base))
        u = r.random()
        ndup = 0 if u < 0.60 else 1 if u < 0.85 else 2 if u < 0.95 else 3
        for _ in range(ndup):
            if len(recs) >= n:
                break
            d2 = dict(base)
            for _ in range(r.randint(1, 2)):
                c = r.randrange(6)
                if c == 0:
                    f = r.choice(("first_name", "last_name"))
                    d2[f] = typo(r, d2[f])
                elif c == 1:
                    d2["first_name"], d2["last_name"] = d2["last_name"], d2["first_name"]
                elif c == 2:
                    d2[r.choice(("birth_date", "email", "address", "city"))] = ""
                elif c == 3 and d2["birth_date"]:
                    yy, mm, dd = d2["birth_date"].split("-")
                    if int(dd) <= 12 and dd != mm:
                        d2["birth_date"] = "%s-%s-%s" % (yy, dd, mm)
                    else:
                        s = list(yy + mm + dd)
                        k = r.randrange(2, 8)
                        s[k] = str((int(s[k]) + 1) % 10)
                        if int("".join(s[4:6])) in range(1, 13) and int("".join(s[6:8])) in range(1, 29):
                            d2["birth_date"] = "%s-%s-%s" % ("".join(s[:4]), "".join(s[4:6]), "".join(s[6:8]))
                elif c == 4 and d2["email"]:
                    d2["email"] = d2["email"].split("@")[0] + "@" + r.choice(DOMAINS)
                else:
                    f = r.choice(("first_name", "last_name"))
                    d2[f] = typo(r, d2[f])
            recs.append((person, d2))
    r.shuffle(recs)
    cols = ["rec_id", "first_name", "last_name", "birth_date", "email", "address", "city", "postal_code",
            "state"]
    with open(out_path, "w", newline="") as f, open(truth_path, "w", newline="") as t:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        t.write("label\n")
        for k, (p, d) in enumerate(recs, 1):
            w.writerow(["r%07d" % k] + [d[c] for c in cols[1:]])
            t.write("%d\n" % p)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "confirm" and len(sys.argv) == 5:
        confirm(*sys.argv[2:])
    elif cmd == "eval":
        evaluate(sys.argv[2:])
    elif cmd == "gen" and len(sys.argv) == 6:
        gen(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
