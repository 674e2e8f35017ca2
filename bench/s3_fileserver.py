#!/usr/bin/env python3
"""s3_fileserver.py: a read-only, S3-compatible file server for the benchmark.

Serves ROOT/<bucket>/<key> on 127.0.0.1 with the part of the S3 REST API the ingest function
uses: path-style `GET` and `HEAD` of an object, with `Range: bytes=a-b` (206 + Content-Range)
and `If-Match` / `If-None-Match` (412 / 304 on a mismatch), `ETag`, `Last-Modified`,
`Content-Length`, and S3's XML errors (`NoSuchKey`, `NoSuchBucket`, `PreconditionFailed`,
`InvalidRange`). Bodies are sent with `os.sendfile`, so serving costs next to no CPU: the
benchmark then measures the ingest, not a Python S3 emulator. Requests are not authenticated
(signatures are ignored); it binds to loopback only.

ETag: the hex md5 of the file, read from a sidecar `ROOT/.etag/<bucket>/<key>` when present
(bench/run.py writes it when it places a file), else computed on first use and cached in memory.

Usage: python3 bench/s3_fileserver.py ROOT [--port 0] [--port-file FILE] [--log FILE]
Prints `listening on 127.0.0.1:PORT` to stdout (and writes PORT to --port-file) once ready.
With --log, appends one line per request: `start end method status bytes bucket/key range`,
where start/end are `time.perf_counter()` (CLOCK_MONOTONIC on Linux, so comparable with the
benchmark driver's clock) at request arrival and after the last byte was handed to the kernel.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import os
import re
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def md5_of(path: str) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


class Store:
    def __init__(self, root: str):
        self.root = os.path.realpath(root)
        self._etags: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    def path(self, bucket: str, key: str) -> str | None:
        p = os.path.realpath(os.path.join(self.root, bucket, key))
        if not p.startswith(self.root + os.sep):
            return None
        return p

    def etag(self, bucket: str, key: str, path: str, st: os.stat_result) -> str:
        ident = (path, st.st_size, st.st_mtime_ns)
        with self._lock:
            if ident in self._etags:
                return self._etags[ident]
        sidecar = os.path.join(self.root, ".etag", bucket, key)
        etag = None
        try:
            if os.stat(sidecar).st_mtime_ns >= st.st_mtime_ns:
                with open(sidecar) as f:
                    etag = f.read().strip().strip('"')
        except OSError:
            pass
        if not etag:
            etag = md5_of(path)
        with self._lock:
            self._etags[ident] = etag
        return etag


def etag_matches(header: str, etag: str) -> bool:
    """If-Match / If-None-Match list semantics (strong comparison; `*` matches anything)."""
    for item in header.split(","):
        item = item.strip()
        if item == "*":
            return True
        if item.startswith("W/"):
            item = item[2:]
        if item.strip('"') == etag:
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bench-s3-fileserver"
    store: Store
    log_file = None
    log_lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet
        pass

    def _error(self, status: int, code: str, message: str, head: bool = False) -> None:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error>").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("x-amz-request-id", "bench")
        if head:
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def _object(self, head: bool) -> None:
        # Drain any request body (none for GET/HEAD, but be safe with keep-alive).
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = urllib.parse.urlsplit(self.path)
        parts = urllib.parse.unquote(url.path).lstrip("/").split("/", 1)
        if len(parts) != 2 or not parts[0] or not parts[1]:
            return self._error(400, "InvalidRequest", "only path-style object requests are served", head)
        bucket, key = parts
        if not os.path.isdir(os.path.join(self.store.root, bucket)):
            return self._error(404, "NoSuchBucket", "The specified bucket does not exist", head)
        path = self.store.path(bucket, key)
        try:
            if path is None:
                raise FileNotFoundError
            f = open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self._error(404, "NoSuchKey", "The specified key does not exist.", head)
        with f:
            st = os.fstat(f.fileno())
            size = st.st_size
            etag = self.store.etag(bucket, key, path, st)
            if_match = self.headers.get("If-Match")
            if if_match is not None and not etag_matches(if_match, etag):
                return self._error(412, "PreconditionFailed",
                                   "At least one of the pre-conditions you specified did not hold", head)
            if_none = self.headers.get("If-None-Match")
            if if_none is not None and etag_matches(if_none, etag):
                self.send_response(304)
                self.send_header("ETag", f'"{etag}"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = 0, size  # [start, end)
            status = 200
            rng = self.headers.get("Range")
            if rng:
                m = RANGE_RE.match(rng.strip())
                if m and (m.group(1) or m.group(2)):
                    a, b = m.group(1), m.group(2)
                    if a == "":  # suffix: last b bytes
                        start, end = max(0, size - int(b)), size
                    else:
                        start = int(a)
                        end = min(size, int(b) + 1) if b else size
                    if start >= size or start >= end:
                        return self._error(416, "InvalidRange", "The requested range is not satisfiable", head)
                    status = 206
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{etag}"')
            self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
            self.send_header("Content-Length", str(end - start))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            self.end_headers()
            if head:
                return
            self.wfile.flush()
            offset, left = start, end - start
            out = self.connection.fileno()
            while left > 0:
                sent = os.sendfile(out, f.fileno(), offset, min(left, 1 << 30))
                if sent == 0:
                    break
                offset += sent
                left -= sent
                self._sent += sent

    def _logged(self, head: bool) -> None:
        started = time.perf_counter()
        self._status, self._sent = 0, 0
        try:
            self._object(head)
        finally:
            if self.log_file is not None:
                line = (f"{started:.6f} {time.perf_counter():.6f} {self.command} {self._status} "
                        f"{self._sent} {urllib.parse.unquote(self.path.split('?', 1)[0])} "
                        f"{(self.headers.get('Range') or '-').replace(' ', '')}\n")
                with self.log_lock:
                    self.log_file.write(line)
                    self.log_file.flush()

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def do_GET(self):
        self._logged(head=False)

    def do_HEAD(self):
        self._logged(head=True)

    def _unsupported(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._error(501, "NotImplemented", "read-only benchmark server")

    do_PUT = do_POST = do_DELETE = _unsupported


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log", help="append one line per request to this file")
    args = ap.parse_args(argv)
    Handler.store = Store(args.root)
    if args.log:
        Handler.log_file = open(args.log, "a", buffering=1)
    srv = Server(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    socketserver.TCPServer.allow_reuse_address = True
    sys.exit(main())
