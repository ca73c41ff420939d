#!/usr/bin/env python3
"""Crash-test client: submits continuously through the HTML form and the JSON API while the server is
killed and restarted, retrying each submission with its own key until acknowledged, as a browser or an app
would. Every acknowledgement is appended to ACKS as `kind<TAB>key<TAB>receipt<TAB>opinions`.

    crash_client.py run URL ACKS STOP_FILE [THREADS]   submit until STOP_FILE exists
    crash_client.py check DB ACKS                      verify every acknowledged submission is stored once
"""
import hashlib
import http.client
import json
import os
import random
import re
import sqlite3
import sys
import threading
import time
import urllib.parse
import uuid

SENTENCES = [
    "建议局领导班子多到基层司法所走一走，听听一线调解员的真实想法。",
    "法律援助的申请材料太多，老年人往返好几趟才办下来，希望能简化流程。",
    "人民调解员的补贴标准多年没有调整，队伍不稳定，年轻人留不住。",
    "希望班子在重大决策前公开征求意见，而不是决定以后再通知。",
    "基层司法所人手紧张，一个人要兼顾调解、矫正、普法好几项工作。",
    "对群众来访要首问负责，不要互相推诿，让群众跑冤枉路。",
]


def text(n):
    return "".join(random.choice(SENTENCES) for _ in range(n))


def answers():
    a = {"team": text(random.randint(3, 20)), "work": text(random.randint(1, 8)),
         "satisfaction": str(random.randint(1, 4)), "has_member": random.choice(["yes", "no"])}
    if a["has_member"] == "yes":
        a["member"] = text(random.randint(1, 6))
    return a, (3 if a["has_member"] == "yes" else 2)


class Client:
    def __init__(self, url, acks, stop):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.acks, self.stop = acks, stop
        self.lock = threading.Lock()
        self.conn = None
        self.retries = 0
        self.unexpected = 0

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            r = self.conn.getresponse()
            return r.status, r.getheader("Location"), r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            return None, None, None

    def record(self, kind, key, receipt, n):
        with self.lock:
            self.acks.write(f"{kind}\t{key}\t{receipt}\t{n}\n")
            self.acks.flush()

    def until_done(self, attempt):
        """Retries one submission (same key, same body) until acknowledged; gives up 15 s after stop."""
        deadline = None
        while True:
            if os.path.exists(self.stop):
                deadline = deadline or time.time() + 15
                if time.time() > deadline:
                    return None
            result = attempt()
            if result is not None:
                return result
            self.retries += 1
            time.sleep(0.05)

    def json_one(self):
        a, n = answers()
        key = "crash-" + uuid.uuid4().hex
        body = json.dumps({"category": "qz", "answers": a}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}

        def attempt():
            status, _, data = self.request("POST", "/api/v1/forms/zhengqiu/responses", body, headers)
            if status in (200, 201):
                return json.loads(data)["receipt"]
            if status is not None and status < 500 and status != 429:
                raise RuntimeError(f"unexpected {status}: {data[:200]!r}")
            return None

        receipt = self.until_done(attempt)
        if receipt:
            self.record("json", key, receipt, n)

    def html_one(self):
        def fetch_key():
            status, _, page = self.request("GET", "/f/zhengqiu")
            if status != 200:
                return None
            m = re.search(rb'name="_key" value="([^"]+)"', page)
            return m.group(1).decode() if m else None

        key = self.until_done(fetch_key)
        if not key:
            return
        a, n = answers()
        fields = [("_key", key), ("_category", "dy")] + [("q_" + k, v) for k, v in a.items()]
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}

        def attempt():
            status, location, data = self.request("POST", "/f/zhengqiu", body, headers)
            if status == 303 and location:
                return location.split("/r/")[1].split("?")[0]
            if status is not None and status < 500 and status != 429:
                raise RuntimeError(f"unexpected {status}: {data[:300]!r}")
            return None

        receipt = self.until_done(attempt)
        if receipt:
            self.record("html", key, receipt, n)

    def loop(self, html):
        while not os.path.exists(self.stop):
            try:
                self.html_one() if html else self.json_one()
            except RuntimeError as e:
                self.unexpected += 1
                print(f"client: {e}", file=sys.stderr)


def run(url, acks_path, stop, threads):
    with open(acks_path, "a", encoding="utf-8") as acks:
        clients = [Client(url, acks, stop) for _ in range(threads)]
        for c in clients:
            c.lock = clients[0].lock
        ts = [threading.Thread(target=c.loop, args=(i % 2 == 0,)) for i, c in enumerate(clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    unexpected = sum(c.unexpected for c in clients)
    print(f"client: {sum(c.retries for c in clients)} retries after refused or cut connections, "
          f"{unexpected} unexpected answers")
    return 1 if unexpected else 0


def check(db_path, acks_path):
    db = sqlite3.connect(db_path)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    acked = [line.rstrip("\n").split("\t") for line in open(acks_path, encoding="utf-8") if line.strip()]
    lost = doubled = wrong = 0
    # Read once: one lookup per acknowledged key costs a query each.
    by_key = {}
    for rid, key_hash, stored_receipt in db.execute("SELECT id, key_hash, receipt FROM responses ORDER BY id"):
        by_key.setdefault(key_hash, []).append((rid, stored_receipt))
    listed = dict(db.execute("SELECT response_id, count(*) FROM opinions GROUP BY response_id").fetchall())
    for kind, key, receipt, n in acked:
        key_hash = hashlib.sha256(f"zhengqiu\n{key}".encode()).hexdigest()
        rows = by_key.get(key_hash, [])
        if not rows:
            lost += 1
            continue
        if len(rows) > 1:
            doubled += 1
        rid, stored_receipt = rows[0]
        opinions = listed.get(rid, 0)
        if stored_receipt != receipt:
            wrong += 1
        if opinions != int(n):
            doubled += opinions > int(n)
            lost += opinions < int(n)
    receipts = [r for _, _, r, _ in acked]
    doubled += len(receipts) - len(set(receipts))
    with_opinions = set(listed)
    torn = sum(1 for (r,) in db.execute("SELECT id FROM responses") if r not in with_opinions)
    total = db.execute("SELECT count(*) FROM responses").fetchone()[0]
    print(f"acknowledged: {len(acked)}  stored responses: {total}  lost: {lost}  doubled: {doubled}  "
          f"receipt mismatches: {wrong}  responses without opinions: {torn}  integrity_check: {integrity}")
    return 0 if (lost, doubled, wrong, torn, integrity) == (0, 0, 0, 0, "ok") and acked else 1


if __name__ == "__main__":
    if sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 8))
    elif sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
