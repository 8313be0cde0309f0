#!/usr/bin/env python3
"""Concord integration tests: python3 tests/integration/run.py [NAME-SUBSTRING...]

Starts concord (CONCORD_BIN, default <repo>/concord), nginx (with the shipped
conf/nginx/*.conf), spawn-fcgi and Apache (conf/apache/concord.conf, when
apache2 is installed) on loopback in a temporary directory, runs every test,
prints `ok - name`, `not ok - name: reason` or `skip - name: reason` per test,
then exactly one line `N passed, N failed`.  Exit status 1 if any test failed.

Environment:
  CONCORD_BIN           the binary under test (default: <repo>/concord)
  CONCORD_SHARED        the shared dir with data/seeds (default: <repo>/../shared)
  CONCORD_IT_KEEP=1     keep the temporary directory (logs, rendered configs)
  CONCORD_SANITIZED=1   the binary has ASan and UBSan: their reports fail a test
  CONCORD_IT_REQUIRE=apache2,spawn-fcgi,systemd-analyze
                        make those tests fail instead of skip when the tool is missing
"""
import os
import shutil
import signal
import sys
import time
import traceback

sys.dont_write_bytecode = True          # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Skip, SetupError  # noqa: E402
import suite  # noqa: E402,F401  (registers the tests)


def one_line(s, n=600):
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[:n] + "..."


def main(argv):
    only = [a for a in argv if not a.startswith("-")]
    env = harness.Env()
    suite.ENV = env

    def on_signal(signum, _frame):
        env.cleanup()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    passed = failed = skipped = 0
    t0 = time.time()
    try:
        setup_error = None
        try:
            suite.setup(env)
        except Exception as e:  # noqa: every test then fails with this reason
            setup_error = e
            if not isinstance(e, (SetupError, Skip)):
                traceback.print_exc()
            print("# setup failed: %s" % one_line(e, 2000), flush=True)
        for name, fn in suite.TESTS:
            if only and not any(o in name for o in only):
                continue
            start = time.time()
            try:
                if setup_error is not None:
                    raise SetupError("setup failed (see the # setup line above)")
                note = fn(env)
            except Skip as e:
                skipped += 1
                print("skip - %s: %s" % (name, one_line(e)), flush=True)
                continue
            except AssertionError as e:
                failed += 1
                print("not ok - %s: %s" % (name, one_line(e)), flush=True)
                continue
            except SetupError as e:
                failed += 1
                print("not ok - %s: %s" % (name, one_line(e)), flush=True)
                continue
            except Exception as e:  # noqa: an unexpected error is a failure of that test
                failed += 1
                tb = traceback.extract_tb(e.__traceback__)[-1]
                print("not ok - %s: %s: %s (at %s:%d)" % (
                    name, type(e).__name__, one_line(e), os.path.basename(tb.filename), tb.lineno), flush=True)
                continue
            passed += 1
            took = time.time() - start
            notes = ([note] if isinstance(note, str) else []) + (["%.1fs" % took] if took >= 2 else [])
            print("ok - %s%s" % (name, "  # " + "; ".join(notes) if notes else ""), flush=True)
    finally:
        env.cleanup()
    if env.san_dir is not None:
        # one test for the whole run: no sanitizer report from any process
        name = "sanitizers: no ASan, UBSan or LeakSanitizer report from any concord process"
        reports = harness.sanitizer_reports(env.san_dir)
        if reports:
            failed += 1
            print("not ok - %s: %d report(s), the first: %s: %s (all in %s)" % (
                name, len(reports), reports[0][0], one_line(reports[0][1]), env.san_dir), flush=True)
        else:
            passed += 1
            print("ok - %s" % name, flush=True)
            shutil.rmtree(env.san_dir, ignore_errors=True)
    if skipped:
        print("# %d skipped; total %.0fs" % (skipped, time.time() - t0))
    else:
        print("# total %.0fs" % (time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
