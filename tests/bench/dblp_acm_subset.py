#!/usr/bin/env python3
"""dblp_acm_subset.py - derives the DBLP-ACM tables of er_bench.sh's biblio
case from tests/bench/data/dblp_acm_test_part.csv (a measuring aid, not a
test; Python standard library only; see tests/bench/data/PROVENANCE.md).

The input holds labelled candidate pairs of DBLP-ACM (label, the DBLP
record's title, authors, venue, year, the ACM record's, and the pair's id
"DBLPID#ACMID").  Written next to it:

  dblp_subset.csv             every DBLP record named by a pair
  acm_subset.csv              every ACM record named by a pair labelled 1
  dblp_acm_truth_subset.csv   the pairs labelled 1 (idDBLP,idACM)

Because DBLP-ACM is a clean-clean task (each table is duplicate-free, the
perfect mapping is one-to-one), a DBLP record of the subset can match only
the ACM record of its own labelled pair, so these pairs are all the true
pairs among the subset's records.  Exits non-zero when a record appears
with two different values, or an id in two labelled pairs.
"""
import csv
import os
import sys

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
src = os.path.join(here, "dblp_acm_test_part.csv")
with open(src, newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
dblp, acm, truth = {}, {}, []
bad = 0


def put(table, key, rec):
    global bad
    if table.setdefault(key, rec) != rec:
        print("dblp_acm_subset: %s has two values: %r %r" % (key, table[key], rec), file=sys.stderr)
        bad += 1


for r in rows:
    d, a = r["id"].split("#")
    put(dblp, d, [d, r["ltable_title"], r["ltable_authors"], r["ltable_venue"], r["ltable_year"]])
    if r["label"] == "1":
        put(acm, a, [a, r["rtable_title"], r["rtable_authors"], r["rtable_venue"], r["rtable_year"]])
        truth.append((d, a))
if len({d for d, _ in truth}) != len(truth) or len({a for _, a in truth}) != len(truth):
    print("dblp_acm_subset: an id is in two labelled pairs", file=sys.stderr)
    bad += 1
for name, header, recs in (("dblp_subset.csv", ["id", "title", "authors", "venue", "year"], dblp.values()),
                           ("acm_subset.csv", ["id", "title", "authors", "venue", "year"], acm.values()),
                           ("dblp_acm_truth_subset.csv", ["idDBLP", "idACM"], truth)):
    with open(os.path.join(here, name), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(recs)
print("dblp_acm_subset: %d pairs read: %d DBLP records, %d ACM records, %d true pairs"
      % (len(rows), len(dblp), len(acm), len(truth)))
sys.exit(1 if bad else 0)
