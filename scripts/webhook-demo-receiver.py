#!/usr/bin/env python3
"""make run's webhook receiver (scripts/run-webhookd.sh): answers 200 to every
POST and writes one line per webhook to stdout: time, path, webhook-id, event
type, order id and status.  Never the signature; verifying it is the
integrator's part (docs/webhooks.md).  Usage: webhook-demo-receiver.py PORT
"""
import json
import sys
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = min(int(self.headers.get("content-length") or 0), 1 << 20)
        body = self.rfile.read(length)
        try:
            event = json.loads(body)
            data = event.get("data") or {}
            what = "%s order %s %s" % (event.get("type"), data.get("id", "-"), data.get("status", ""))
        except ValueError:
            what = "(not JSON)"
        print("%s %s webhook-id %s: %s" % (
            datetime.now(timezone.utc).strftime("%H:%M:%S"), self.path,
            self.headers.get("webhook-id"), what), flush=True)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
