# SPDX-License-Identifier: GPL-3.0-or-later
"""A small Chrome DevTools Protocol client for the system Chromium, over a pipe.

Chromium is started with --remote-debugging-pipe: it reads protocol messages
(JSON, each ended by a NUL byte) from file descriptor 3 and writes to file
descriptor 4. No port, no websocket library, no browser download: Debian's
chromium package and the Python standard library are enough.

    with Browser() as browser:
        page = browser.new_page(width=1400, height=900)
        page.goto('file:///tmp/dashboard.html')
        page.evaluate('document.title')
        page.screenshot('/tmp/shot.png')
        page.errors        # console errors, uncaught exceptions, CSP violations
"""
from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time

FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-extensions', '--disable-default-apps', '--mute-audio', '--hide-scrollbars',
         '--remote-debugging-pipe')


def find_chromium():
    for name in (os.environ.get('PHASEOUT_CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome'):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class ProtocolError(RuntimeError):
    pass


class Browser:
    def __init__(self, executable=None, timeout=30):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise ProtocolError('no chromium found (apt-get install chromium; scripts/setup-system.sh does it)')
        self.timeout = timeout
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies = {}
        self._events = queue.Queue()
        self._reply_ready = threading.Condition()
        self.profile = tempfile.mkdtemp(prefix='phaseout-chromium-')
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire():  # in the child, before exec: fd 3 <- our writes, fd 4 -> our reads
            high_r, high_w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [self.executable, *FLAGS, '--user-data-dir=%s' % self.profile, 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=wire, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._stderr = []
        threading.Thread(target=self._read_stderr, daemon=True).start()
        threading.Thread(target=self._read_messages, daemon=True).start()
        self.call('Browser.getVersion')

    # --- plumbing ---
    def _read_stderr(self):
        for line in self.process.stderr:
            self._stderr.append(line.decode('utf-8', 'replace'))

    def _read_messages(self):
        buffer = b''
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                chunk = b''
            if not chunk:
                with self._reply_ready:
                    self._replies[None] = 'closed'
                    self._reply_ready.notify_all()
                return
            buffer += chunk
            while b'\0' in buffer:
                raw, buffer = buffer.split(b'\0', 1)
                message = json.loads(raw)
                if 'id' in message:
                    with self._reply_ready:
                        self._replies[message['id']] = message
                        self._reply_ready.notify_all()
                else:
                    self._events.put(message)

    def call(self, method, params=None, session=None, timeout=None):
        with self._lock:
            self._next_id += 1
            number = self._next_id
        message = {'id': number, 'method': method, 'params': params or {}}
        if session:
            message['sessionId'] = session
        os.write(self._to_child, json.dumps(message).encode('utf-8') + b'\0')
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._reply_ready:
            while number not in self._replies:
                if None in self._replies:
                    raise ProtocolError('chromium exited: %s' % ''.join(self._stderr[-20:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProtocolError('no reply to %s within %ss' % (method, timeout or self.timeout))
                self._reply_ready.wait(left)
            reply = self._replies.pop(number)
        if 'error' in reply:
            raise ProtocolError('%s: %s' % (method, reply['error']))
        return reply.get('result', {})

    def events(self, timeout=0.0):
        """Protocol events received so far (waiting up to timeout for the first one)."""
        found = []
        try:
            found.append(self._events.get(timeout=timeout) if timeout else self._events.get_nowait())
            while True:
                found.append(self._events.get_nowait())
        except queue.Empty:
            pass
        return found

    def new_page(self, width=1400, height=900):
        target = self.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = self.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        return Page(self, session, width, height)

    def close(self):
        try:
            if self.process.poll() is None:
                try:
                    self.call('Browser.close', timeout=5)
                except ProtocolError:
                    pass
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            for fd in (self._to_child, self._from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, session, width, height):
        self.browser = browser
        self.session = session
        self.errors = []
        self.console = []
        self._pending = []
        for domain in ('Page', 'Runtime', 'Log'):
            self.call('%s.enable' % domain)
        self.call('Emulation.setDeviceMetricsOverride',
                  {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': False})

    def call(self, method, params=None, timeout=None):
        return self.browser.call(method, params, session=self.session, timeout=timeout)

    def _drain(self, timeout=0.0):
        for event in self.browser.events(timeout):
            if event.get('sessionId') not in (None, self.session):
                continue
            method, params = event.get('method'), event.get('params', {})
            if method == 'Runtime.consoleAPICalled':
                text = ' '.join(str(a.get('value', a.get('description', ''))) for a in params.get('args', []))
                self.console.append((params.get('type'), text))
                if params.get('type') in ('error', 'assert'):
                    self.errors.append('console.%s: %s' % (params.get('type'), text))
            elif method == 'Runtime.exceptionThrown':
                detail = params.get('exceptionDetails', {})
                self.errors.append('exception: %s %s' % (detail.get('text'),
                                                         detail.get('exception', {}).get('description', '')))
            elif method == 'Log.entryAdded':
                entry = params.get('entry', {})
                if entry.get('level') == 'error':
                    self.errors.append('log (%s): %s %s'
                                       % (entry.get('source'), entry.get('text'), entry.get('url', '')))
            self._pending.append(event)

    def goto(self, url, timeout=30):
        self.call('Page.navigate', {'url': url})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain(0.2)
            if any(e.get('method') == 'Page.loadEventFired' for e in self._pending):
                self._pending.clear()
                self._drain(0.3)  # late console messages
                return
        raise ProtocolError('%s did not load within %ss' % (url, timeout))

    def evaluate(self, expression):
        reply = self.call('Runtime.evaluate', {'expression': expression, 'returnByValue': True,
                                               'awaitPromise': True})
        self._drain()
        if reply.get('exceptionDetails'):
            raise ProtocolError('%s: %s' % (expression, reply['exceptionDetails']))
        return reply.get('result', {}).get('value')

    def type_into(self, selector, text):
        """Set an input's value and fire the input event, as typing does."""
        self.call('Runtime.evaluate', {'expression': 'document.querySelector(%s).focus()' % json.dumps(selector)})
        self.call('Input.insertText', {'text': text})
        self._drain(0.1)

    def screenshot(self, path, max_height=None, media=None):
        if media:
            self.call('Emulation.setEmulatedMedia', {'media': media})
        metrics = self.call('Page.getLayoutMetrics')
        size = metrics.get('cssContentSize') or metrics.get('contentSize')
        height = int(size['height'])
        if max_height:
            height = min(height, max_height)
        shot = self.call('Page.captureScreenshot', {
            'format': 'png', 'captureBeyondViewport': True,
            'clip': {'x': 0, 'y': 0, 'width': int(size['width']), 'height': height, 'scale': 1}}, timeout=60)
        data = base64.b64decode(shot['data'])
        with open(path, 'wb') as handle:
            handle.write(data)
        if media:
            self.call('Emulation.setEmulatedMedia', {'media': ''})
        return data

    def pdf(self):
        reply = self.call('Page.printToPDF', {'printBackground': True, 'preferCSSPageSize': False}, timeout=60)
        return base64.b64decode(reply['data'])
