#!/usr/bin/env python3
"""Helper of tests/bench/release.sh: one scenario of the release-at-midnight benchmark.

  release.py --bin WENJI --work DIR --forms DIR --db URL --ports 18520[,18521] [--responses N]

Seeds N waiting responses of zhengqiu over every unit of units.toml (rows written straight into the
database, as tests/bench/seed.rs does), starts the server(s) under libfaketime at 12:00 Beijing time on
2026-12-05, waits for their background work (search index, near-duplicate groups) to settle, signs a leader
in, then lets a day pass the way tests/web/helpers.rs `a_day_passes` does (stored times moved back a day),
so the next leader-facing request finds the midnight's release to make. Two rounds, with the release undone
in between: (a) one leader request alone; (b) 40 leader and /gongkai requests at once, spread over the
instances. During each round citizens submit at a steady 5 a second. Prints one JSON line of figures.
"""
import argparse
import hashlib
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

DAY = 86_400_000
# The servers' clock: 12:00 Beijing time, 5 December 2026 (ticking from there).
FAKE_START_UTC = "2026-12-05 04:00:00"
DEC5_MS = 1_796_400_000_000  # 2026-12-05 00:00 Beijing: the cut of the release the rounds make
PASSWORD = "a-Long-passw0rd-2026"
CATEGORIES = ["dyld", "dy", "fdy", "sfs", "flfw", "qy", "cs", "qz"]
PHRASES = [
    "希望领导班子加强理论学习，学用结合，不要走过场",
    "基层司法所人手紧张，建议增加编制并改善办公条件",
    "办事效率有待提高，有的审批环节太多，群众反映跑了好几趟",
    "决策前应多做调研，充分听取基层和群众的意见",
    "人民调解工作做得扎实，建议总结经验在全区推广",
    "服务企业要主动，三服务活动不能只停留在口号上",
    "村聘法律顾问制度要落到实处，定期到村里坐班",
    "作风建设要常抓不懈，严格执行廉洁自律各项规定",
]
LEADER_PATHS = ["/w/dashboard", "/w/inbox", "/gongkai", "/w/dashboard"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Db:
    """SQL on the benchmark database, SQLite through the sqlite3 module, PostgreSQL through psql."""

    def __init__(self, url):
        self.url = url
        self.pg = url.startswith("postgres")
        if not self.pg:
            self.path = re.sub(r"^sqlite://", "", url).split("?")[0]

    def run(self, sql):
        if self.pg:
            out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                                 check=True, capture_output=True, text=True).stdout
            return [line.split("|") for line in out.splitlines() if line]
        con = sqlite3.connect(self.path, timeout=120)
        try:
            rows = con.execute(sql).fetchall()
            con.commit()
            return [[str(v) for v in r] for r in rows]
        finally:
            con.close()

    def one(self, sql):
        return int(self.run(sql)[0][0])

    def copy(self, table, cols, rows):
        """Bulk insert: COPY on PostgreSQL, executemany on SQLite."""
        if self.pg:
            import csv, io
            buf = io.StringIO()
            csv.writer(buf).writerows(rows)
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.url, "-c",
                            f"\\copy {table} ({','.join(cols)}) FROM STDIN WITH (FORMAT csv)"],
                           input=buf.getvalue(), check=True, text=True)
        else:
            con = sqlite3.connect(self.path, timeout=120)
            con.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", rows)
            con.commit()
            con.close()


def seed(db, n, version_id, links):
    """n responses of zhengqiu spread over the units, each with 1 or 2 opinions, sent on 5 December before noon."""
    rng = random.Random(20261205)
    units = sorted(links)
    started = time.time()
    rid = db.one("SELECT COALESCE(MAX(id), 0) FROM responses") + 1
    oid = db.one("SELECT COALESCE(MAX(id), 0) FROM opinions") + 1
    done = 0
    while done < n:
        resp, ans, ops = [], [], []
        for _ in range(min(50_000, n - done)):
            unit = units[rng.randrange(len(units))]
            cat = rng.choice(CATEGORIES)
            at = DEC5_MS + 60_000 + rng.randrange(11 * 3_600_000)
            resp.append((rid, version_id, "zhengqiu", links[unit][0], unit, cat, f"WJ-R{rid:09d}",
                         hashlib.sha256(b"k%d" % rid).hexdigest(), hashlib.sha256(b"b%d" % rid).hexdigest(), at))
            ans.append((rid, "has_member", '{"type":"choice","value":"no"}'))
            ans.append((rid, "satisfaction", '{"type":"choice","value":"%d"}' % (1 + rng.randrange(4))))
            for q in ["team"] + (["work"] if rng.random() < 0.5 else []):
                text = "；".join(rng.choice(PHRASES) for _ in range(1 + rng.randrange(3))) + "。"
                ans.append((rid, q, json.dumps({"type": "text", "value": text}, ensure_ascii=False)))
                fp = hashlib.md5(text.encode()).hexdigest()[:24]
                ops.append((oid, rid, "zhengqiu", q, unit, cat, text, fp, "pending", False, at, at))
                oid += 1
            rid += 1
        db.copy("responses", ["id", "form_version_id", "form_slug", "link_id", "unit_code", "category_code",
                              "receipt", "key_hash", "body_hash", "submitted_at"], resp)
        db.copy("answers", ["response_id", "question_id", "value"], ans)
        db.copy("opinions", ["id", "response_id", "form_slug", "question_id", "unit_code", "category_code", "text",
                             "fingerprint", "state", "representative", "submitted_at", "updated_at"], ops)
        done += len(resp)
    if db.pg:
        for t in ["responses", "opinions"]:
            db.run(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))")
    # Made before its responses (responses older than the database are an upgrade's; see store/releases.rs).
    db.run("UPDATE seaql_migrations SET applied_at = 0")
    db.run("ANALYZE")
    log(f"seeded {n} responses, {oid - 1} opinions in {time.time() - started:.0f} s")


def a_day_passes(db):
    """tests/web/helpers.rs a_day_passes: every stored time moves back a day."""
    for t in ["responses", "opinions"]:
        db.run(f"UPDATE {t} SET submitted_at = submitted_at - {DAY}, released_at = released_at - {DAY}")
    db.run(f"UPDATE leader_releases SET cut_ms = {DAY} - cut_ms")
    db.run("UPDATE leader_releases SET cut_ms = -cut_ms")


def undo_release(db, cut):
    for t in ["responses", "opinions"]:
        db.run(f"UPDATE {t} SET released_at = NULL WHERE released_at = {cut}")
    db.run(f"DELETE FROM leader_pooled_units WHERE cut_ms = {cut}")
    db.run(f"DELETE FROM leader_releases WHERE cut_ms = {cut}")


def tidy(db):
    """After the benchmark's own bulk updates: no dead rows or long WAL of ours left for the release to meet."""
    if db.pg:
        for t in ["responses", "opinions"]:
            db.run(f"VACUUM ANALYZE {t}")
    else:
        db.run("PRAGMA wal_checkpoint(TRUNCATE)")
        db.run("ANALYZE")


def check_release(db, cut, seeded):
    """The release at `cut` as stored: made once, every seeded response in it once, their opinions too."""
    q = db.one
    return {
        "release_rows": q(f"SELECT COUNT(*) FROM leader_releases WHERE cut_ms = {cut}"),
        "release_says": q(f"SELECT COALESCE(MAX(released), -1) FROM leader_releases WHERE cut_ms = {cut}"),
        "released": q(f"SELECT COUNT(*) FROM responses WHERE released_at = {cut}"),
        "expected": seeded,
        "missed": q(f"SELECT COUNT(*) FROM responses WHERE submitted_at < {cut} AND released_at IS NULL"),
        "other_cut": q(f"SELECT COUNT(*) FROM responses WHERE submitted_at < {cut} AND released_at <> {cut}"),
        "opinions_missed": q("SELECT COUNT(*) FROM opinions o JOIN responses r ON r.id = o.response_id "
                             "WHERE r.released_at IS NOT NULL AND o.released_at IS NULL"),
        "opinions_wrong": q("SELECT COUNT(*) FROM opinions o JOIN responses r ON r.id = o.response_id "
                            "WHERE o.released_at IS NOT NULL AND (r.released_at IS NULL OR o.released_at <> r.released_at)"),
    }


class Servers:
    def __init__(self, args):
        self.args, self.procs = args, []
        self.common = ["--database-url", args.db, "--forms-dir", args.forms, "--data-dir", args.work]
        self.env = dict(os.environ, TZ="UTC", LD_PRELOAD=args.faketime_lib, FAKETIME="@" + FAKE_START_UTC,
                        FAKETIME_DONT_FAKE_MONOTONIC="1", RUST_LOG=os.environ.get("RUST_LOG", "info"))

    def cli(self, *a, stdin=None):
        return subprocess.run([self.args.bin, *self.common, *a], input=stdin, env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def start(self, port):
        out = open(os.path.join(self.args.work, f"serve-{port}.log"), "ab")
        p = subprocess.Popen([self.args.bin, *self.common, "serve", "--bind", f"127.0.0.1:{port}",
                              "--public-url", f"http://127.0.0.1:{port}", "--submit-burst", "100000",
                              "--submit-per-minute", "100000"], env=self.env, stdout=out, stderr=out)
        self.procs.append(p)
        with open(os.path.join(self.args.work, f"serve-{port}.pid"), "w") as f:
            f.write(str(p.pid))
        for _ in range(600):
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    return p
            except requests.RequestException:
                pass
            if p.poll() is not None:
                raise SystemExit(f"server on {port} exited; see serve-{port}.log")
            time.sleep(0.2)
        raise SystemExit(f"server on {port} did not start")

    def wait_idle(self, limit_s=900):
        """Until the servers spent under 5% of a core over 3 s (their background catch-up is done)."""
        def cpu():
            total = 0
            for p in self.procs:
                with open(f"/proc/{p.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            return total / os.sysconf("SC_CLK_TCK")
        started = time.time()
        while time.time() - started < limit_s:
            before = cpu()
            time.sleep(3)
            if cpu() - before < 0.15:
                return time.time() - started
        log("warning: servers still busy after", limit_s, "s")
        return time.time() - started

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in os.listdir(self.args.work):
            if f.startswith("serve-") and f.endswith(".pid"):
                os.remove(os.path.join(self.args.work, f))
        self.procs = []


class Trickle:
    """Citizens submitting at `rate` a second through the distribution links, each POST timed."""

    def __init__(self, bases, links, rate=5.0):
        self.bases, self.links, self.rate = bases, links, rate
        self.results, self.stop_flag = [], threading.Event()
        self.keys = []
        for i in range(600):  # signed submission keys do not expire: fetched before the clock starts
            base = bases[i % len(bases)]
            unit = sorted(links)[i % len(links)]
            page = requests.get(f"{base}/f/zhengqiu", params={"t": links[unit][1]}, timeout=30).text
            self.keys.append((base, links[unit][1], re.search(r'name="_key" value="([^"]+)"', page).group(1)))

    def post(self, due, base, token, key):
        body = {"_key": key, "_t": token, "_hp": "", "_category": random.choice(CATEGORIES),
                "q_team": "建议局领导班子多到基层司法所走一走。", "q_has_member": "no", "q_member": "",
                "q_work": "法律援助的申请材料太多。", "q_satisfaction": "3", "q_phone": ""}
        try:
            r = requests.post(f"{base}/f/zhengqiu", files={k: (None, v) for k, v in body.items()},
                              allow_redirects=False, timeout=180)
            code = r.status_code
        except requests.RequestException:
            code = 0
        self.results.append((time.time() - due, code))  # from when it was due: queued ones count too

    def run(self):
        with ThreadPoolExecutor(256) as pool:
            t0, i = time.time(), 0
            while not self.stop_flag.is_set() and i < len(self.keys):
                pool.submit(self.post, time.time(), *self.keys[i])
                i += 1
                time.sleep(max(0.0, t0 + i / self.rate - time.time()))

    def __enter__(self):
        self.thread = threading.Thread(target=self.run)
        self.thread.start()
        time.sleep(2)
        return self

    def __exit__(self, *exc):
        time.sleep(2)
        self.stop_flag.set()
        self.thread.join()

    def figures(self):
        lat = sorted(r[0] for r in self.results)
        return {"n": len(lat), "p50": statistics.median(lat), "max": lat[-1],
                "over_1s": sum(1 for x in lat if x > 1), "bad": sum(1 for r in self.results if r[1] != 303)}


def timed_get(base, path, cookies):
    t0 = time.time()
    try:
        code = requests.get(base + path, cookies=cookies, allow_redirects=False, timeout=300).status_code
    except requests.RequestException:
        code = 0
    return time.time() - t0, code


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    for a in ["--bin", "--work", "--forms", "--db", "--ports", "--faketime-lib"]:
        ap.add_argument(a, required=True)
    ap.add_argument("--responses", type=int, default=200_000)
    ap.add_argument("--concurrent", type=int, default=40)
    args = ap.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    db = Db(args.db)
    srv = Servers(args)
    out = {"instances": len(ports)}
    try:
        srv.cli("migrate")
        srv.start(ports[0])  # loads the forms into the database and makes the release at 5 December 00:00
        srv.stop_all()
        links = {}
        units = re.findall(r'^code\s*=\s*"([^"]+)"', open(os.path.join(args.forms, "units.toml")).read(), re.M)
        for u in units:
            url = srv.cli("links", "create", "--form", "zhengqiu", "--unit", u,
                          "--public-url", bases[0]).strip().splitlines()[-1]
            lid = db.one(f"SELECT MAX(id) FROM links WHERE unit_code = '{u}'")
            links[u] = (lid, url.split("t=", 1)[1])
        srv.cli("user", "add", "lead1", "--role", "leader", stdin=PASSWORD + "\n")
        version = db.one("SELECT MAX(id) FROM form_versions WHERE slug = 'zhengqiu'")
        seed(db, args.responses, version, links)
        for p in ports:
            srv.start(p)
        out["settle_s"] = round(srv.wait_idle())
        log(f"servers settled after {out['settle_s']} s")
        s = requests.Session()
        r = s.post(bases[0] + "/login", data={"username": "lead1", "password": PASSWORD}, allow_redirects=False)
        assert r.status_code == 303, f"sign-in failed: {r.status_code}"
        cookies = s.cookies.get_dict()
        used = time.time()

        def stale():
            """As after a night: the leader's session last used over a minute ago (web/auth.rs REFRESH_EVERY_MS),
            so the next request saves it, a write."""
            time.sleep(max(0.0, used + 62 - time.time()))
        seeded = db.one(f"SELECT COUNT(*) FROM responses WHERE released_at IS NULL AND submitted_at < {DEC5_MS + DAY}")
        cut = DEC5_MS  # after a day passes the servers' last midnight is still 5 December 00:00, now unreleased

        # (a) One leader request, alone, finds the release to make.
        trickle = Trickle(bases, links)
        a_day_passes(db)
        tidy(db)
        srv.wait_idle(120)
        stale()
        with trickle:
            out["first_s"], out["first_code"] = timed_get(bases[0], "/w/dashboard", cookies)
        out["first_submit"] = trickle.figures()
        out["first_check"] = check_release(db, cut, seeded)
        out["view_after_s"] = timed_get(bases[0], "/w/dashboard", cookies)[0]
        used = time.time()
        log("round a:", json.dumps(out))

        # (b) The release undone; 40 leader and /gongkai requests at once, over the instances.
        undo_release(db, cut)
        tidy(db)
        srv.wait_idle(120)
        trickle = Trickle(bases, links)
        stale()
        barrier = threading.Barrier(args.concurrent)

        def one(i):
            barrier.wait()
            return timed_get(bases[i % len(bases)], LEADER_PATHS[i % len(LEADER_PATHS)], cookies)
        with trickle:
            with ThreadPoolExecutor(args.concurrent) as pool:
                herd = list(pool.map(one, range(args.concurrent)))
        lat = [h[0] for h in herd]
        codes = {}
        for h in herd:
            codes[str(h[1])] = codes.get(str(h[1]), 0) + 1
        out["herd"] = {"p50": statistics.median(lat), "p95": pct(lat, 95), "max": max(lat), "codes": codes,
                       "max_by_instance": [max(lat[i::len(bases)]) for i in range(len(bases))],
                       "max_by_path": {p: max(lat[i] for i in range(len(lat)) if LEADER_PATHS[i % 4] == p)
                                       for p in set(LEADER_PATHS)}}
        out["herd_submit"] = trickle.figures()
        out["herd_check"] = check_release(db, cut, seeded)
        print(json.dumps(out))
    finally:
        srv.stop_all()


if __name__ == "__main__":
    main()
