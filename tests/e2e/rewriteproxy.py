"""A proxy between cairn and moto that rewrites answers for a while: e.g.
reports a NAT gateway as "pending" for the first seconds, the way AWS does
for minutes, so a test can see cairn wait (moto makes everything available
at once). In-process: RewriteProxy(upstream, action, old, new, seconds)."""
import http.client
import http.server
import socketserver
import threading
import time
import urllib.parse


class RewriteProxy:
    """Forwards every request; answers to requests whose body holds
    "Action=<action>" get old replaced by new until `seconds` after start."""

    def __init__(self, upstream, action, old, new, seconds):
        u = urllib.parse.urlsplit(upstream)
        self.host, self.port = u.hostname, u.port
        self.action = ("Action=%s&" % action).encode()
        self.old, self.new = old.encode(), new.encode()
        self.until = 0.0
        self.seconds = seconds
        self.rewritten = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body,
                                 headers={k: v for k, v in self.headers.items()
                                          if k.lower() != "connection"})
                    resp = conn.getresponse()
                    data = resp.read()
                    if proxy.action in body and time.time() < proxy.until and \
                            proxy.old in data:
                        data = data.replace(proxy.old, proxy.new)
                        proxy.rewritten += 1
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("connection", "transfer-encoding",
                                             "content-length", "server", "date"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def start(self):
        self.until = time.time() + self.seconds
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
