#!/usr/bin/env python3
"""A scripted registry and token server for the registry client's tests.

Each repository plays one behaviour that a real registry cannot be made to
show on demand:
  bearer/*          the token flow: pull for anyone, push only for alice
  private/*         nothing for anyone (a mount from there is refused)
  bearer/redirect   blob GETs redirected to another host (/storage)
  open/broken       a 500 with a distribution error body
  open/cut          a blob connection closed half way
  open/mismatch     a blob whose bytes are not its digest
  open/range        a blob served with Range support
  open/norange      a blob served whole whatever the Range
  open/badrange     a 206 from the wrong offset
  open/huge         a manifest over the client's limit
  open/plain        a manifest, for the https -> http fallback
GET /stats returns what the client did (tokens asked for, ranges, ...).

Usage: fake_registry.py [extra-address]; prints "ports <main> <extra|0>"
once listening on 127.0.0.1 (and the extra address when it can be bound).
"""

import base64
import hashlib
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BLOB = bytes(range(256)) * 40
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": BLOB_DIGEST, "size": len(BLOB)},
    "layers": [],
}).encode()
USER, PASSWORD = "alice", "wonderland"

stats = {"tokens": 0, "token_scopes": [], "token_users": [], "storage_requests": 0, "storage_auth": 0,
         "ranges": [], "cancelled": 0, "manifests_put": 0}
lock = threading.Lock()
main_port = [0]


def encode_token(scopes):
    return "tok." + base64.urlsafe_b64encode(" ".join(scopes).encode()).decode()


def token_grants(header, repo, action):
    if not header or not header.startswith("Bearer tok."):
        return False
    try:
        scopes = base64.urlsafe_b64decode(header[len("Bearer tok."):]).decode().split(" ")
    except Exception:
        return False
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) == 3 and parts[0] == "repository" and parts[1] == repo and action in parts[2].split(","):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        # A TLS ClientHello on this plain port: answer as a plain HTTP
        # server would, at once (http.server would wait for a newline).
        try:
            first = self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if first == b"\x16":
            self.connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        super().handle()

    def reply(self, status, body=b"", headers=None, content_type="application/json"):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def error(self, status, code, message, headers=None):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.reply(status, body, headers)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_blob(self, data, honour_range=True):
        rng = self.headers.get("Range")
        with lock:
            stats["ranges"].append(rng or "")
        start = 0
        if honour_range and rng and rng.startswith("bytes="):
            start = int(rng[len("bytes="):].split("-")[0])
            if start >= len(data):
                self.reply(416, headers={"Content-Range": "bytes */%d" % len(data)})
                return
            self.reply(206, data[start:], {"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))},
                       "application/octet-stream")
            return
        self.reply(200, data, content_type="application/octet-stream")

    def challenge(self, scope):
        realm = "http://127.0.0.1:%d/token" % main_port[0]
        value = 'Bearer realm="%s",service="fake"' % realm
        if scope:
            value += ',scope="%s"' % scope
        self.error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": value})

    def do_token(self, query):
        auth = self.headers.get("Authorization")
        user = None
        if auth:
            try:
                user, _, password = base64.b64decode(auth.split(" ", 1)[1]).decode().partition(":")
            except Exception:
                user, password = "?", ""
            if not auth.startswith("Basic ") or user != USER or password != PASSWORD:
                self.reply(401, json.dumps({"details": "incorrect username or password"}).encode())
                return
        scopes = query.get("scope", [])
        granted = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) != 3:
                continue
            actions = parts[2].split(",")
            if parts[1].startswith("private/"):
                actions = []
            elif user != USER:
                actions = [a for a in actions if a == "pull"]
            granted.append("%s:%s:%s" % (parts[0], parts[1], ",".join(actions)))
        with lock:
            stats["tokens"] += 1
            stats["token_scopes"].append(" ".join(scopes))
            stats["token_users"].append(user or "")
        self.reply(200, json.dumps({"token": encode_token(granted or ["none"]), "expires_in": 300}).encode())

    def do_storage(self):
        with lock:
            stats["storage_requests"] += 1
            if self.headers.get("Authorization"):
                stats["storage_auth"] += 1
        self.send_blob(BLOB)

    def do_bearer(self, repo, rest, query):
        auth = self.headers.get("Authorization")
        push = self.command in ("PUT", "POST", "PATCH", "DELETE")
        action = "push" if push else "pull"
        if not token_grants(auth, repo, action):
            self.challenge("repository:%s:%s" % (repo, "pull,push" if push else "pull"))
            return
        if rest.startswith("manifests/"):
            if self.command == "PUT":
                body = self.body
                with lock:
                    stats["manifests_put"] += 1
                digest = "sha256:" + hashlib.sha256(body).hexdigest()
                self.reply(201, headers={"Docker-Content-Digest": digest, "Location": "/v2/%s/manifests/%s" % (repo, digest)})
            else:
                self.reply(200, MANIFEST, content_type="application/vnd.oci.image.manifest.v1+json; charset=utf-8")
        elif rest.startswith("blobs/uploads/") and self.command == "POST":
            src = query.get("from", [""])[0]
            if "mount" in query and token_grants(auth, src, "pull"):
                self.reply(201, headers={"Location": "/v2/%s/blobs/%s" % (repo, query["mount"][0])})
            else:
                self.reply(202, headers={"Location": "/v2/%s/blobs/uploads/u1?_state=x" % repo})
        elif rest.startswith("blobs/uploads/") and self.command == "DELETE":
            with lock:
                stats["cancelled"] += 1
            self.reply(204)
        elif rest.startswith("blobs/") and repo == "bearer/redirect":
            self.reply(307, headers={"Location": "http://localhost:%d/storage/blob" % main_port[0]})
        elif rest.startswith("blobs/"):
            self.send_blob(BLOB)
        else:
            self.error(404, "NAME_UNKNOWN", "repository name not known to registry")

    def do_open(self, repo, rest):
        if repo == "open/broken":
            self.error(500, "UNKNOWN", "boom")
        elif repo == "open/cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BLOB)))
            self.end_headers()
            self.wfile.write(BLOB[:3000])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif repo == "open/mismatch":
            self.reply(200, b"not the blob you asked for", content_type="application/octet-stream")
        elif repo == "open/range":
            self.send_blob(BLOB)
        elif repo == "open/norange":
            self.send_blob(BLOB, honour_range=False)
        elif repo == "open/badrange":
            self.reply(206, BLOB, {"Content-Range": "bytes 0-%d/%d" % (len(BLOB) - 1, len(BLOB))},
                       "application/octet-stream")
        elif repo == "open/huge":
            try:
                self.reply(200, b" " * (5 << 20), content_type="application/vnd.oci.image.manifest.v1+json")
            except OSError:
                self.close_connection = True
        elif repo == "open/plain" and rest.startswith("manifests/"):
            self.reply(200, MANIFEST, content_type="application/vnd.oci.image.manifest.v1+json")
        elif repo == "open/json" and rest.startswith("manifests/"):
            self.reply(200, MANIFEST, content_type="application/json")
        else:
            self.error(404, "NAME_UNKNOWN", "repository name not known to registry")

    def route(self):
        # Read any body first, so that a refused request leaves the
        # connection fit for the next one.
        self.body = self.read_body()
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        path = url.path
        if path == "/token":
            return self.do_token(query)
        if path == "/stats":
            with lock:
                return self.reply(200, json.dumps(stats).encode())
        if path.startswith("/storage/"):
            return self.do_storage()
        if path == "/v2/":
            if (self.headers.get("Authorization") or "").startswith("Bearer tok."):
                return self.reply(200, b"{}")
            return self.challenge(None)
        parts = path[len("/v2/"):].split("/") if path.startswith("/v2/") else []
        if len(parts) >= 3:
            repo = "/".join(parts[:2])
            rest = "/".join(parts[2:])
            if parts[0] == "bearer":
                return self.do_bearer(repo, rest, query)
            if parts[0] == "open":
                return self.do_open(repo, rest)
        self.error(404, "NAME_UNKNOWN", "repository name not known to registry")

    def do_GET(self):
        self.route()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    main_port[0] = server.server_address[1]
    extra_port = 0
    servers = [server]
    if len(sys.argv) > 1:
        try:
            extra = Server((sys.argv[1], 0), Handler)
            extra_port = extra.server_address[1]
            servers.append(extra)
        except OSError:
            pass
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ports %d %d" % (main_port[0], extra_port), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
