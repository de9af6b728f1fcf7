#!/usr/bin/env python3
"""Your own application on Foobar's app tier: Python's standard library only.

Each app server runs this as its child (app.command in foobar.yaml) with where to listen and the
database tier in environment variables (docs/app.md). Foobar checks GET /healthz, restarts the
process if it exits, and puts it behind the web servers like the built-in application.
"""
import html
import json
import os
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ADDRESS = os.environ["FOOBAR_APP_ADDRESS"]
PORT = int(os.environ["PORT"])
SERVER = os.environ["FOOBAR_SERVER"]
CHECK_PATH = os.environ.get("FOOBAR_CHECK_PATH", "/healthz")


def query(sql):
    """One query on the primary with the mariadb command line client; rows as lists of strings."""
    host, port = os.environ["FOOBAR_DB_PRIMARY"].rsplit(":", 1)
    result = subprocess.run(
        ["mariadb", "--batch", "--skip-column-names", f"--host={host}", f"--port={port}",
         f"--user={os.environ['FOOBAR_DB_USER']}", f"--database={os.environ['FOOBAR_DB_NAME']}", "-e", sql],
        env={**os.environ, "MYSQL_PWD": os.environ["FOOBAR_DB_PASSWORD"]},
        capture_output=True, text=True, timeout=5, check=True)
    return [line.split("\t") for line in result.stdout.splitlines()]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the web servers pool their connections

    def do_GET(self):
        if self.path == CHECK_PATH:
            self.reply(200, "text/plain", b"ok\n")
        elif self.path == "/api/whoami":
            self.reply_json(200, {"server": SERVER, "language": "python",
                                  "forwarded_for": self.headers.get("X-Forwarded-For"),
                                  "proto": self.headers.get("X-Forwarded-Proto")})
        elif self.path == "/api/db":
            try:
                [[read_only, version, server_id]] = query("SELECT @@read_only, VERSION(), @@server_id")
                self.reply_json(200, {"server": SERVER, "primary": os.environ["FOOBAR_DB_PRIMARY"],
                                      "read_only": read_only == "1", "version": version, "server_id": int(server_id)})
            except (subprocess.SubprocessError, ValueError, KeyError) as e:
                self.reply_json(503, {"title": "database unavailable", "detail": str(e)})
        else:
            page = f"<!doctype html><title>{html.escape(os.environ.get('FOOBAR_SITE', ''))}</title>" \
                   f"<h1>Hello from {html.escape(SERVER)}</h1><p>A Python application behind Foobar's web tier.</p>"
            self.reply(200, "text/html; charset=utf-8", page.encode())

    def reply_json(self, status, value):
        self.reply(status, "application/json", json.dumps(value).encode())

    def reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", SERVER)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        if getattr(self, "path", None) != CHECK_PATH:
            super().log_message(format, *args)


if __name__ == "__main__":
    ThreadingHTTPServer((ADDRESS, PORT), Handler).serve_forever()
