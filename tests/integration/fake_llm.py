"""A small OpenAI-compatible chat-completions server for the tests.

Python standard library only; listens on 127.0.0.1 in a thread of the test
runner (suite.setup() starts it).  It records every request it receives
(path, headers, raw body) and answers, in this order:

  1. the next scripted reply, if any (FakeLLM.script()):
       {"kind": "content", "content": obj or str}  200, that message content
       {"kind": "status", "status": 429|500|..., "retry_after": secs?}
       {"kind": "slow", "seconds": s}   sleeps, then answers as in 3.
       {"kind": "malformed"}            200, content that is not JSON
       {"kind": "not_completion"}       200, a body that is not a completion
       {"kind": "huge", "bytes": n}     200, a body of n bytes
       {"kind": "refuse_schema"}        400 when response_format is
                                        json_schema, else as in 3.
  2. else FakeLLM.responder(request_doc) when set: returns the content;
  3. else {"columns": []} (a model that knows nothing).

Nothing here knows Concord's internals: replies are what a real model
could say; the tests decide what they should be.
"""
import http.server
import json
import threading
import time


class FakeLLM:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []          # dicts: path, headers, body (bytes), doc
        self.queue = []
        self.responder = None
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d/v1" % self.port

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self, responder=None):
        with self.lock:
            self.requests = []
            self.queue = []
            self.responder = responder

    def script(self, *replies):
        with self.lock:
            self.queue.extend(replies)

    def seen(self):
        with self.lock:
            return list(self.requests)

    # ------------------------------------------------------------------
    def _next(self):
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def _default(self, doc):
        if self.responder is not None:
            return self.responder(doc)
        return {"columns": []}

    def _handler(self):
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, status, body, headers=None):
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _completion(self, content):
                if not isinstance(content, str):
                    content = json.dumps(content)
                return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                        "model": "fake", "choices": [{"index": 0, "finish_reason": "stop",
                                                      "message": {"role": "assistant", "content": content}}]}

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    doc = json.loads(raw)
                except ValueError:
                    doc = None
                with fake.lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                          "body": raw, "doc": doc})
                if self.path != "/v1/chat/completions" or not isinstance(doc, dict):
                    self._send(404, {"error": {"message": "unknown path"}})
                    return
                r = fake._next()
                kind = (r or {}).get("kind")
                if kind == "content":
                    self._send(200, self._completion(r["content"]))
                elif kind == "status":
                    h = {"Retry-After": str(r["retry_after"])} if "retry_after" in r else {}
                    self._send(r["status"], {"error": {"message": "scripted %d" % r["status"]}}, h)
                elif kind == "slow":
                    time.sleep(r["seconds"])
                    self._send(200, self._completion(fake._default(doc)))
                elif kind == "malformed":
                    self._send(200, self._completion("Sure! Here is the mapping: {columns: [oops"))
                elif kind == "not_completion":
                    self._send(200, "<html>gateway</html>")
                elif kind == "huge":
                    self._send(200, b"{" + b" " * r["bytes"] + b"}")
                elif kind == "refuse_schema" and (doc.get("response_format") or {}).get("type") == "json_schema":
                    self._send(400, {"error": {"message": "response_format json_schema is not supported"}})
                else:
                    self._send(200, self._completion(fake._default(doc)))

        return H
