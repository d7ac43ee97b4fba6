"""A small client of Chromium's DevTools protocol: starts Debian's headless chromium on a free
loopback port with its own profile directory, talks to one page over the DevTools websocket
(python3-websocket), records console errors and exceptions, and stops the browser."""
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

from e2e_lib import Failure, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Browser:
    def __init__(self, log_path, width=1400, height=1000):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="aether-chromium-")
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "--no-default-browser-check", "--no-proxy-server",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=%d" % self.port,
             "--user-data-dir=" + self.profile, "--window-size=%d,%d" % (width, height),
             "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.ws = None
        self.next_id = 0
        self.errors = []  # console errors, exceptions and error log entries, as text
        self.ws = websocket.create_connection(self._page_ws(), timeout=30, suppress_origin=True)
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable")

    def _page_ws(self):
        end = time.time() + 30
        while time.time() < end:
            if self.proc.poll() is not None:
                raise Failure("chromium exited with %s (see its log)" % self.proc.returncode)
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.port,
                                            timeout=2) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except OSError:
                pass
            time.sleep(0.2)
        raise Failure("chromium's DevTools did not answer on port %d within 30 s" % self.port)

    def _event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console.%s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append("exception: %s %s" % (
                d.get("text", ""), d.get("exception", {}).get("description", "")))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            self.errors.append("log: %s %s" % (e.get("text", ""), e.get("url", "")))

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise Failure("DevTools %s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self._event(msg)

    def pump(self, seconds):
        """Handles events for `seconds` (console messages arrive while nothing is asked)."""
        end = time.time() + seconds
        while time.time() < end:
            self.ws.settimeout(max(0.05, end - time.time()))
            try:
                self._event(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        self.ws.settimeout(30)

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise Failure("evaluating %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, expr, timeout, what, explain=None):
        """Polls expr until it is truthy; on timeout fails with the errors seen and, if given,
        the value of the expression `explain` (the page's state, for the reader)."""
        end = time.time() + timeout
        while time.time() < end:
            v = self.evaluate(expr)
            if v:
                return v
            self.pump(0.25)
        page = "; page: %s" % self.evaluate(explain) if explain else ""
        raise Failure("timed out after %ss waiting for %s; errors: %s%s" % (timeout, what,
                                                                           self.errors, page))

    def navigate(self, url):
        self.call("Page.navigate", url=url)

    def screenshot(self, path, width, height):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        self.pump(0.5)  # charts follow the new width (resize handler)
        shot = self.call("Page.captureScreenshot", format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        try:
            if self.ws:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
