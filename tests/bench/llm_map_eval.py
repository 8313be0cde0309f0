#!/usr/bin/env python3
"""Mapping accuracy on the seed files' headers: the heuristic alone vs the
heuristic with a language model (tests/bench/README.md, "llm_map_eval").

Truth: a person's reading of the CRM/ERP headers, EXPECTED in
tests/integration/tests_mapping.py (read with ast, not imported).  For
each seed file the program runs `concord map FILE` twice: once with every
CONCORD_LLM_* variable removed (the heuristic alone), once with the
environment as given (CONCORD_LLM_ENDPOINT, _MODEL, _API_KEY_FILE,
_TIMEOUT_MS: the configured model).  It prints, per file and in all, the
columns whose final target is right, and the model's own targets ("llm"
of each column) against the truth.

    CONCORD_LLM_ENDPOINT=http://127.0.0.1:11434/v1 CONCORD_LLM_MODEL=llama3.1:8b \\
        python3 tests/bench/llm_map_eval.py [--concord ./concord] [--shared ../shared]

Not run in CI: it needs a real endpoint (without one, the second run is
the heuristic again and says so).
"""
import argparse
import ast
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def expected():
    src = open(os.path.join(REPO, "tests", "integration", "tests_mapping.py")).read()
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "EXPECTED" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("EXPECTED not found in tests_mapping.py")


def seed(shared, name):
    for d in ("source_crm", "source_erp"):
        p = os.path.join(shared, "data", "seeds", "crm-erp", d, name)
        if os.path.exists(p):
            return p
    raise SystemExit("no seed file " + name)


def propose(concord, path, with_llm):
    env = dict(os.environ)
    if not with_llm:
        for k in list(env):
            if k.startswith("CONCORD_LLM_"):
                del env[k]
    t0 = time.time()
    p = subprocess.run([concord, "map", path], capture_output=True, env=env, timeout=900)
    if p.returncode != 0:
        raise SystemExit("concord map %s: %s" % (path, p.stderr.decode()[-500:]))
    return json.loads(p.stdout), time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--concord", default=os.path.join(REPO, "concord"))
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    a = ap.parse_args()
    truth = expected()
    if not os.environ.get("CONCORD_LLM_ENDPOINT"):
        print("# CONCORD_LLM_ENDPOINT is not set: the second column is the heuristic again", file=sys.stderr)
    tot = {"n": 0, "heur": 0, "both": 0, "llm": 0, "llm_answered": 0}
    print("%-20s %5s %10s %12s %10s %8s" % ("file", "cols", "heuristic", "heur+model", "model", "model s"))
    for name, want in truth.items():
        path = seed(a.shared, name)
        h, _ = propose(a.concord, path, False)
        m, secs = propose(a.concord, path, True)
        hc = {c["source"]: c["target"] for c in h["columns"]}
        mc = {c["source"]: c for c in m["columns"]}
        n = len(want)
        heur = sum(hc.get(k) == v for k, v in want.items())
        both = sum(mc[k]["target"] == v for k, v in want.items() if k in mc)
        llm = sum((mc[k].get("llm") or {}).get("target") == v for k, v in want.items() if k in mc)
        answered = "llm" in m
        for f in m.get("fallbacks", []):
            print("# %s: %s %s" % (name, f.get("code"), f.get("reason")), file=sys.stderr)
        print("%-20s %5d %10d %12d %10s %8.1f" % (name, n, heur, both, llm if answered else "-", secs))
        tot["n"] += n
        tot["heur"] += heur
        tot["both"] += both
        tot["llm"] += llm if answered else 0
        tot["llm_answered"] += n if answered else 0
    print("%-20s %5d %9.1f%% %11.1f%% %9s" % (
        "all", tot["n"], 100.0 * tot["heur"] / tot["n"], 100.0 * tot["both"] / tot["n"],
        "%.1f%%" % (100.0 * tot["llm"] / tot["llm_answered"]) if tot["llm_answered"] else "-"))


if __name__ == "__main__":
    main()
