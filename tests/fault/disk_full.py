#!/usr/bin/env python3
"""Disk-full client, driven by disk_full.sh:

    disk_full.py full URL STATE     submit until the server refuses with 503; record every answer
    disk_full.py recover URL STATE DB   after space is freed: submissions succeed again, the refused ones can
                                        be resubmitted, and every acknowledged one is stored exactly once
"""
import hashlib
import http.client
import json
import re
import sqlite3
import sys
import time
import urllib.parse

TEXT = "磁盘写满时提交的意见：建议基层司法所增加人手，简化法律援助流程，提高调解员补贴。" * 12


def post_json(url, key, n):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    body = json.dumps({"category": "qz", "answers": {"team": f"{n} {TEXT}", "work": TEXT, "has_member": "no",
                                                     "satisfaction": "3"}})
    c.request("POST", "/api/v1/forms/zhengqiu/responses", body=body,
              headers={"Content-Type": "application/json", "Idempotency-Key": key})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else {})


def post_html(url):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("GET", "/f/zhengqiu")
    page = c.getresponse().read().decode()
    key = re.search(r'name="_key" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"_key": key, "_category": "dy", "q_team": TEXT, "q_has_member": "no",
                                   "q_satisfaction": "1"})
    c.request("POST", "/f/zhengqiu", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    return r.status, r.read().decode()


def full(url, state_path):
    answers = []  # (key, status, receipt)
    refused = 0
    for n in range(20000):
        key = f"diskfull-{n:06d}"
        status, body = post_json(url, key, n)
        answers.append((key, status, body.get("receipt")))
        if status == 503:
            refused += 1
            if refused == 1:
                print(f"first refusal after {n} submissions on the full disk: 503 {body.get('error')!r}")
            if refused >= 20:
                break
        elif status not in (200, 201):
            print(f"unexpected answer {status}: {body}")
            break
    html_status, html_page = post_html(url)
    html_message = re.search(r"系统暂时无法保存[^<]*", html_page)
    print(f"HTML form on the full disk: {html_status} {html_message.group(0) if html_message else html_page[:200]!r}")
    json.dump(answers, open(state_path, "w"))
    statuses = sorted({s for _, s, _ in answers})
    ok = refused >= 20 and set(statuses) <= {200, 201, 503} and html_status == 503 and html_message
    print(f"on the full disk: {sum(s in (200, 201) for _, s, _ in answers)} acknowledged, {refused} refused with "
          f"503, answers seen: {statuses}")
    return 0 if ok else 1


def recover(url, state_path, db_path):
    answers = json.load(open(state_path))
    start = time.time()
    for attempt in range(100):
        status, body = post_json(url, f"after-free-{attempt}", attempt)
        if status == 201:
            break
        time.sleep(0.1)
    print(f"after freeing space: first new submission stored in {time.time() - start:.2f} s (status {status})")
    resubmitted = stored_late = 0
    final = []
    for key, status, receipt in answers:
        if status == 503:
            s2, b2 = post_json(url, key, int(key.split("-")[1]))
            resubmitted += s2 == 201
            stored_late += s2 == 200  # stored although refused earlier: would mean a lost acknowledgement
            final.append((key, s2, b2.get("receipt")))
            if s2 not in (200, 201):
                print(f"resubmitting {key} after freeing space: {s2} {b2}")
        else:
            final.append((key, status, receipt))
    db = sqlite3.connect(db_path)
    lost = doubled = 0
    for key, status, receipt in final:
        if status not in (200, 201):
            lost += 1
            continue
        h = hashlib.sha256(f"zhengqiu\n{key}".encode()).hexdigest()
        rows = db.execute("SELECT receipt FROM responses WHERE key_hash = ?", (h,)).fetchall()
        lost += len(rows) == 0 or rows[0][0] != receipt
        doubled += len(rows) > 1
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    print(f"refused submissions resubmitted and stored: {resubmitted}; stored despite a 503: {stored_late}; "
          f"acknowledged but lost: {lost}; doubled: {doubled}; integrity_check: {integrity}")
    return 0 if status == 201 and lost == 0 and doubled == 0 and integrity == "ok" else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    sys.exit(full(*sys.argv[2:4]) if cmd == "full" else recover(*sys.argv[2:5]))
