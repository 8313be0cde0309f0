"""Test registry and the shared installation every test runs against.

Servers (all started by setup(), one nginx in front of all of them, each backend
on its own HTTPS port rendered from the shipped conf/nginx/concord.conf):

  main    concord with default settings except CONCORD_LOGIN_MAX_FAILURES(_PER_CLIENT)=1000
          (so the many deliberate bad logins of the suite never lock 127.0.0.1)
          and CONCORD_COOKIE_SECURE left at its default (HTTPS: __Host-concord).
  limits  CONCORD_MAX_UPLOAD_BYTES=4096, CONCORD_LOGIN_MAX_FAILURES(_PER_CLIENT)=3,
          CONCORD_COOKIE_SECURE=0, CONCORD_REQUEST_DEADLINE_MS=1: upload limit,
          login lockout, plain cookie, read requests over their deadline (503).
  spawn   concord started by spawn-fcgi (socket on fd 0).
  upload  CONCORD_BODY_IDLE_TIMEOUT=2: bodies cut off, stalled, and what killed
          processes leave (tests_upload_integrity restarts it).
  faults  default settings: the data directory tests_faults breaks (disk full,
          I/O errors, kill -9) with the command line and checks through nginx.
  llm     a language model configured: the fake OpenAI-compatible server of
          fake_llm.py (env.fake_llm) on loopback, CONCORD_LLM_TIMEOUT_MS=2000.
  dead    an nginx server block whose socket does not exist (503 envelope).
Apache is started by its own test, in front of `main`.
"""
import os
import shutil

import harness
from harness import Skip, SetupError

TESTS = []
ENV = None


def test(name):
    def deco(fn):
        TESTS.append((name, fn))
        return fn
    return deco


def require(tool, reason):
    """Skip, or fail when CONCORD_IT_REQUIRE names the tool."""
    wanted = [t.strip() for t in os.environ.get("CONCORD_IT_REQUIRE", "").split(",") if t.strip()]
    if tool in wanted:
        raise AssertionError("%s (required by CONCORD_IT_REQUIRE)" % reason)
    raise Skip(reason)


def setup(env):
    if not os.path.exists(env.bin) or not os.access(env.bin, os.X_OK):
        raise SetupError("no executable concord at %s: run `make` or set CONCORD_BIN" % env.bin)
    env.seeds_dir()
    env.make_cert()
    env.make_public()
    main = env.backend("main", {"CONCORD_LOGIN_MAX_FAILURES": "1000",
                                "CONCORD_LOGIN_MAX_FAILURES_PER_CLIENT": "1000"})
    limits = env.backend("limits", {"CONCORD_MAX_UPLOAD_BYTES": "4096", "CONCORD_LOGIN_MAX_FAILURES": "3",
                                    "CONCORD_LOGIN_MAX_FAILURES_PER_CLIENT": "3",
                                    "CONCORD_COOKIE_SECURE": "0",
                                    "CONCORD_REQUEST_DEADLINE_MS": "1"})
    spawn = env.backend("spawn", {"CONCORD_COOKIE_SECURE": "0"}, launcher="spawn-fcgi")
    # upload: also the peer that keeps no answers (tables_kept_pages_follow_the_model)
    upload = env.backend("upload", {"CONCORD_BODY_IDLE_TIMEOUT": "2", "CONCORD_PAGE_CACHE": "false",
                                    "CONCORD_DASHBOARD_CACHE": "false"})
    faults = env.backend("faults", {})
    llm = llm_backend(env)
    blocks = []
    for b in (main, limits, spawn, upload, faults, llm):
        b.error = None
        try:
            b.init()
            b.start()
        except (SetupError, Skip) as e:
            if b is main:
                raise
            b.error = e
        b.port = harness.free_port()
        blocks.append((b.name, b.port, b.sock))
    env.dead_port = harness.free_port()
    blocks.append(("dead", env.dead_port, os.path.join(env.tmp, "dead", "no-such.sock")))
    env.start_nginx(blocks)
    for b in (main, limits, spawn, upload, faults, llm):
        b.client = env.client(b.port, label="nginx:" + b.name)
    env.dead = env.client(env.dead_port, label="nginx:dead")


def llm_backend(env):
    """The backend `llm`: a language model configured, the fake one of
    fake_llm.py on loopback (env.fake_llm), an API key in a 0600 file
    (env.llm_key), a 2 s timeout."""
    import secrets
    import fake_llm
    env.fake_llm = fake_llm.FakeLLM()
    env.fake_llm.start()
    env.llm_key = "sk-test-" + secrets.token_hex(20)
    keyf = os.path.join(env.tmp, "llm-key")
    fd = os.open(keyf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, (env.llm_key + "\n").encode())
    os.close(fd)
    env.llm_timeout_ms = 2000
    return env.backend("llm", {"CONCORD_LLM_ENDPOINT": env.fake_llm.endpoint, "CONCORD_LLM_MODEL": "fake-model",
                               "CONCORD_LLM_API_KEY_FILE": keyf,
                               "CONCORD_LLM_TIMEOUT_MS": str(env.llm_timeout_ms)})


def backend(env, name):
    b = env.backends[name]
    if b.error is not None:
        raise b.error
    return b


def have(tool):
    return shutil.which(tool) is not None


# test modules, in the order they run
import tests_service  # noqa: E402,F401
import tests_auth  # noqa: E402,F401
import tests_users  # noqa: E402,F401
import tests_files  # noqa: E402,F401
import tests_upload_integrity  # noqa: E402,F401
import tests_deploy  # noqa: E402,F401
import tests_pipeline  # noqa: E402,F401
import tests_mapping  # noqa: E402,F401
import tests_dashboards  # noqa: E402,F401
import tests_segments  # noqa: E402,F401
import tests_tables  # noqa: E402,F401
import tests_matching  # noqa: E402,F401
import tests_entities  # noqa: E402,F401
import tests_firstuse  # noqa: E402,F401
import tests_review  # noqa: E402,F401
import tests_faults  # noqa: E402,F401
import tests_attacks  # noqa: E402,F401
import tests_teams  # noqa: E402,F401
import tests_llm  # noqa: E402,F401
import tests_xlsx  # noqa: E402,F401
