#!/usr/bin/env python3
"""Disk-full client, driven by disk_full.sh:

    disk_full.py full URL STATE     submit until the server refuses with 503; record every answer
    disk_full.py recover URL STATE DB   after space is freed: submissions succeed again, the refused ones can
                                        be resubmitted, and every acknowledged one is stored exactly once
    disk_full.py tag URL PHASE JAR      login: an analyst (fault-analyst, password in WENJI_FAULT_PASSWORD)
                                        signs in, cookies kept in JAR; full: tagging the next untagged opinion
                                        is stored or refused with 503; freed: it is stored (a write transaction
                                        left stuck by the full disk would fail here)
    disk_full.py admin URL PHASE JAR    login: an administrator (fault-admin) signs in; full: a new sign-in
                                        (a session written) gets 503, not tower-sessions' bare 500; freed: it
                                        works again
    disk_full.py health URL PHASE       full / read-only: /healthz answers 503 saying why; freed: 200 ok
    disk_full.py readonly URL PHASE     read-only (the filesystem remounted so): a submission gets 503; writable
                                        again: one is stored (201) without a restart
    disk_full.py changes URL PHASE JAR DB   login: fault-admin signs in; full / freed: adds an account,
                                        creates a link and starts an export; each is stored or refused with
                                        503 on the full disk, stored once freed, and every account, link and
                                        export job stored has its audit entry (one transaction for both)
"""
import http.cookiejar
import os
import urllib.error
import urllib.request
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


def health(url, phase):
    """Monitoring sees the full disk: /healthz is 503 and says why while it is full, ok once freed."""
    time.sleep(1.1)  # /healthz keeps its answer for a second; what it says after that is the disk's state now
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as r:
            status, body = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode()
    print(f"/healthz on the {phase} disk: {status} {body!r}")
    if phase == "full":
        return 0 if status == 503 and "disk full" in body else 1
    if phase == "read-only":
        return 0 if status == 503 and "read-only" in body else 1
    return 0 if status == 200 and body == "ok" else 1


def readonly(url, phase):
    """A filesystem remounted read-only (as ext4 does after I/O errors): submissions 503, then stored again."""
    start = time.time()
    for attempt in range(100):
        status, body = post_json(url, f"{phase}-{attempt}-{time.time()}", attempt)
        if phase == "read-only" or status == 201:
            break
        time.sleep(0.1)
    print(f"submission on the {phase} disk: {status} {body.get('error', '')!r} after {time.time() - start:.2f} s")
    return 0 if status == (503 if phase == "read-only" else 201) else 1


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


def tag(url, phase, jar_path):
    jar = http.cookiejar.LWPCookieJar(jar_path)
    if phase != "login":
        jar.load(ignore_discard=True)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def call(path, data=None, headers=None):
        req = urllib.request.Request(url + path, data=data, headers=headers or {})
        try:
            with opener.open(req, timeout=30) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    if phase == "login":
        # One opinion to tag later, stored while the disk has room.
        post_json(url, "before-the-disk-fills", 0)
        # Signed in while the disk has room: a sign-in is itself a write.
        login = urllib.parse.urlencode({"username": "fault-analyst", "password": os.environ["WENJI_FAULT_PASSWORD"]})
        call("/login", login.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
        jar.save(ignore_discard=True)
    status, home = call("/w")
    token = re.search(r'name="_csrf" value="([^"]+)"', home)
    if status != 200 or not token:
        print(f"analyst workspace ({phase}): {status} {home[:200]!r}")
        return 1
    if phase == "login":
        return 0
    status, card = call("/w/api/next")
    opinion = json.loads(card)["id"]
    for attempt in range(50):
        status, body = call(f"/w/api/opinions/{opinion}", b"op=save&area=3",
                            {"Content-Type": "application/x-www-form-urlencoded", "x-csrf-token": token.group(1)})
        if phase == "full" or status != 503:
            break
        time.sleep(0.1)  # the writer may still be finishing a refused batch
    print(f"tagging opinion {opinion} {'on the full disk' if phase == 'full' else 'after freeing space'}: {status}")
    ok = status in (200, 503) if phase == "full" else status == 200
    return 0 if ok else 1


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def signed_in(url, phase, jar_path, *handlers):
    """The cookie jar of JAR (loaded unless signing in) and a form poster: call(path, fields=None, opener=None)
    gives (status, body)."""
    jar = http.cookiejar.LWPCookieJar(jar_path)
    if phase != "login":
        jar.load(ignore_discard=True)
    own = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), *handlers)

    def call(path, data=None, opener=None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if data else {}
        req = urllib.request.Request(url + path, data=data and urllib.parse.urlencode(data).encode(), headers=headers)
        try:
            with (opener or own).open(req, timeout=30) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    return jar, call


def admin(url, phase, jar_path):
    jar, call = signed_in(url, phase, jar_path)
    login = {"username": "fault-admin", "password": os.environ["WENJI_FAULT_PASSWORD"]}
    if phase == "login":
        call("/login", login)
        jar.save(ignore_discard=True)
        return 0 if call("/w/admin/users")[0] == 200 else 1
    fresh = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    status = call("/login", login, fresh)[0]
    print(f"a new sign-in (a session written) {'on the full disk' if phase == 'full' else 'after freeing space'}: "
          f"{status}")
    return 0 if status == (503 if phase == "full" else 200) else 1

def changes(url, phase, jar_path, db_path):
    jar, call = signed_in(url, phase, jar_path, NoRedirect)

    if phase == "login":
        call("/login", {"username": "fault-admin", "password": os.environ["WENJI_FAULT_PASSWORD"]})
        jar.save(ignore_discard=True)
        status, page = call("/w/admin/users")
        token = re.search(r'name="_csrf" value="([^"]+)"', page)
        open(jar_path + ".csrf", "w").write(token.group(1) if token else "")
        return 0 if status == 200 and token else 1
    csrf = open(jar_path + ".csrf").read()
    pw = "Fault-Passphrase-" + os.environ["WENJI_FAULT_PASSWORD"]
    writes = [
        ("add an account", "/w/admin/users",
         {"op": "add", "username": f"fault-new-{phase}", "role": "analyst", "password": pw}),
        ("create a link", "/w/admin/links", {"form": "zhengqiu", "unit": "sfs-qingxi", "label": f"fault-{phase}"}),
        ("start an export", "/w/exports", {"form": "zhengqiu", "format": "csv"}),
    ]
    ok = True
    for what, path, fields in writes:
        for attempt in range(50):
            status, _ = call(path, dict(fields, _csrf=csrf))
            if phase == "full" or status != 503:
                break
            time.sleep(0.1)
        print(f"{what} {'on the full disk' if phase == 'full' else 'after freeing space'}: {status}")
        ok &= status in (303, 503) if phase == "full" else status == 303
    # What writes nothing but its audit entry (a download, a reload, a refused sign-in) is refused or
    # audited: an autocommitted INSERT … RETURNING on SQLite once lost the full disk's error.
    fresh = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)
    audited_only = [
        ("download the register", "register_export", lambda: call("/w/register.xlsx")),
        ("reload the forms", "forms_reloaded", lambda: call("/w/admin/forms/reload", {"_csrf": csrf})),
        ("a wrong password", "sign_in_failed",
         lambda: call("/login", {"username": "fault-admin", "password": "wrong-" + pw}, fresh)),
    ]
    db = sqlite3.connect(db_path)
    count = lambda action: db.execute("SELECT count(*) FROM audit_log WHERE action = ?", (action,)).fetchone()[0]
    for what, action, send in audited_only:
        before = count(action)
        status = send()[0]
        entries = count(action) - before
        print(f"{what} {'on the full disk' if phase == 'full' else 'after freeing space'}: {status}, "
              f"{entries} audit entry")
        ok &= status == 503 if entries == 0 else status < 500
        ok &= entries == 1 or phase == "full"
    db.close()
    if phase == "freed":
        db = sqlite3.connect(db_path)
        unaudited = db.execute(
            "SELECT 'user:' || username FROM users WHERE username LIKE 'fault-new-%' "
            "AND NOT EXISTS (SELECT 1 FROM audit_log WHERE target = 'user:' || username AND action = 'user_created') "
            "UNION ALL SELECT 'link:' || id FROM links WHERE label LIKE 'fault-%' "
            "AND NOT EXISTS (SELECT 1 FROM audit_log WHERE target = 'link:' || links.id AND action = 'link_created') "
            "UNION ALL SELECT 'export:' || id FROM export_jobs "
            "WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE target = 'export:' || export_jobs.id)").fetchall()
        stored = db.execute("SELECT (SELECT count(*) FROM users WHERE username LIKE 'fault-new-%'), "
                            "(SELECT count(*) FROM links WHERE label LIKE 'fault-%'), "
                            "(SELECT count(*) FROM export_jobs)").fetchone()
        print(f"accounts, links, export jobs stored: {stored}; stored without their audit entry: {unaudited}")
        ok &= not unaudited
    return 0 if ok else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "changes":
        sys.exit(changes(*sys.argv[2:6]))
    if cmd == "admin":
        sys.exit(admin(*sys.argv[2:5]))
    if cmd == "tag":
        sys.exit(tag(*sys.argv[2:5]))
    if cmd == "readonly":
        sys.exit(readonly(*sys.argv[2:4]))
    if cmd == "health":
        sys.exit(health(*sys.argv[2:4]))
    sys.exit(full(*sys.argv[2:4]) if cmd == "full" else recover(*sys.argv[2:5]))
