#!/usr/bin/env python3
"""The same rows as `wenji export`, written by Python's XlsxWriter (constant_memory), for comparison.

Reads the Wenji SQLite file directly and writes the streamed sheets the Rust export writes: one sheet per
area (representative quotes first, with unit, category, time, receipt and other areas), 未归类 and 原始数据
(one row per response, labels and codes). Usage: xlsxwriter_export.py DB_PATH FORMS_DIR OUT.xlsx
"""
import datetime
import json
import sqlite3
import sys
import tomllib
from pathlib import Path

import xlsxwriter

db_path, forms_dir, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
db = sqlite3.connect(db_path)
areas = tomllib.loads((forms_dir / "areas.toml").read_text())["area"]
area_name = {a["code"]: a["name"] for a in areas}
units = {u["code"]: u["name"] for u in tomllib.loads((forms_dir / "units.toml").read_text())["unit"]}
FORMS = ("zhengqiu", "ceping")
versions = {vid: json.loads(d) for vid, d in db.execute("SELECT id, definition FROM form_versions ORDER BY id DESC")}
versions = {k: v for k, v in versions.items() if v["slug"] in FORMS}
cats, qtitle, ftitle = {}, {}, {}
for d in versions.values():
    ftitle[d["slug"]] = d["title"]
    for c in d["categories"]:
        cats.setdefault(c["code"], c["label"])
    for q in d["questions"]:
        qtitle[(d["slug"], q["id"])] = q["title"]
tz = datetime.timezone(datetime.timedelta(hours=8))


def when(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def tags_of(ids):
    out = {}
    q = "SELECT opinion_id, area_code FROM tag_assignments WHERE opinion_id IN (%s)" % ",".join("?" * len(ids))
    for oid, a in db.execute(q, ids):
        out.setdefault(oid, []).append(a)
    return out


wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
wrap = wb.add_format({"text_wrap": True, "valign": "top"})


def sheet(name, headers, widths):
    ws = wb.add_worksheet(name)
    for i, (h, w) in enumerate(zip(headers, widths)):
        ws.set_column(i, i, w)
        ws.write_string(0, i, h, head)
    ws.freeze_panes(1, 0)
    return ws


SELECT = ("SELECT o.id, r.receipt, o.form_slug, o.question_id, o.unit_code, o.category_code, o.text, "
          "o.representative, o.state, o.submitted_at FROM ")
for code in sorted(area_name):
    ws = sheet(f"{code} {area_name[code]}", ["意见原文", "典型意见", "单位", "填写人类别", "提交时间", "回执号", "其他领域", "表单", "题目"],
               [60, 9, 20, 20, 17, 15, 22, 20, 24])
    row = 1
    for rep in (1, 0):
        after = 0
        while True:
            batch = db.execute(SELECT + "tag_assignments t JOIN opinions o ON o.id = t.opinion_id JOIN responses r "
                               "ON r.id = o.response_id WHERE t.area_code = ? AND o.representative = ? AND "
                               "o.state <> 'invalid' AND t.opinion_id > ? ORDER BY t.opinion_id LIMIT 5000",
                               (code, rep, after)).fetchall()
            if not batch:
                break
            after = batch[-1][0]
            tags = tags_of([b[0] for b in batch])
            for (oid, receipt, slug, qid, unit, cat, text, repr_, state, at) in batch:
                cells = [text, "★ 典型" if repr_ else "", units.get(unit, unit or "（未指定单位）"),
                         cats.get(cat, cat or "（未选择类别）"), when(at), receipt,
                         "、".join(area_name[a] for a in sorted(tags.get(oid, [])) if a != code),
                         ftitle.get(slug, slug), qtitle.get((slug, qid), qid)]
                for c, v in enumerate(cells):
                    if v:
                        ws.write_string(row, c, v, wrap if c in (0, 6, 7, 8) else None)
                row += 1
    ws.autofilter(0, 0, row - 1, 8)

ws = sheet("未归类", ["意见原文", "状态", "单位", "填写人类别", "提交时间", "回执号", "表单", "题目"], [60, 9, 20, 20, 17, 15, 20, 24])
row, after = 1, 0
labels = {"pending": "待归类", "tagged": "已归类", "verify": "需核实", "invalid": "无效"}
while True:
    batch = db.execute(SELECT + "opinions o JOIN responses r ON r.id = o.response_id WHERE o.state <> 'invalid' "
                       "AND NOT EXISTS (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = o.id) AND o.id > ? "
                       "ORDER BY o.id LIMIT 5000", (after,)).fetchall()
    if not batch:
        break
    after = batch[-1][0]
    for (oid, receipt, slug, qid, unit, cat, text, repr_, state, at) in batch:
        for c, v in enumerate([text, labels[state], units.get(unit, unit or ""), cats.get(cat, cat or ""), when(at),
                               receipt, ftitle.get(slug, slug), qtitle.get((slug, qid), qid)]):
            if v:
                ws.write_string(row, c, v, wrap if c == 0 else None)
        row += 1
ws.autofilter(0, 0, row - 1, 7)

# 原始数据: columns from every version of the exported forms.
cols = []
for d in versions.values():
    for q in d["questions"]:
        if q.get("contact_purpose") or q["kind"]["type"] == "phone" or (d["slug"], q["id"]) in [c[:2] for c in cols]:
            continue
        cols.append((d["slug"], q["id"], q["kind"]))
headers = ["回执号", "表单", "单位", "填写人类别", "提交时间"]
for slug, qid, kind in cols:
    headers.append(f"【{ftitle[slug]}】{qtitle[(slug, qid)]}")
    if kind["type"] in ("single_choice", "multiple_choice", "rating", "matrix"):
        headers.append(headers[-1] + "（代码）")
headers += ["意见所属领域", "意见状态", "分析备注"]
ws = sheet("原始数据", headers, [16] * len(headers))


def label(kind, code):
    for c in kind.get("choices") or kind.get("scale") or []:
        if c["code"] == code:
            return c["label"]
    return code


def show(kind, a):
    t, v = a["type"], a.get("value")
    if t == "choice":
        return label(kind, v), v
    if t == "choices":
        return "；".join(label(kind, c) for c in v), ";".join(v)
    if t == "matrix":
        rows = {r["code"]: r["label"] for r in kind.get("rows", [])}
        return ("；".join(f"{rows.get(r, r)}：{label(kind, g)}" for r, g in v.items()),
                ";".join(f"{r}={g}" for r, g in sorted(v.items())))
    return str(v), str(v)


row, after = 1, 0
while True:
    rs = db.execute("SELECT id, receipt, form_slug, form_version_id, unit_code, category_code, submitted_at FROM "
                    "responses WHERE id > ? ORDER BY id LIMIT 5000", (after,)).fetchall()
    if not rs:
        break
    after = rs[-1][0]
    ids = [r[0] for r in rs]
    marks = ",".join("?" * len(ids))
    answers, ops, notes = {}, {}, {}
    for rid, qid, value in db.execute(f"SELECT response_id, question_id, value FROM answers WHERE response_id IN ({marks}) ORDER BY id", ids):
        answers.setdefault(rid, {})[qid] = json.loads(value)
    oids = {}
    for oid, rid, state in db.execute(f"SELECT id, response_id, state FROM opinions WHERE response_id IN ({marks})", ids):
        ops.setdefault(rid, []).append(oid)
        oids[oid] = state
    tags = {}
    for oid, a in db.execute(f"SELECT t.opinion_id, t.area_code FROM tag_assignments t JOIN opinions o ON o.id = t.opinion_id WHERE o.response_id IN ({marks})", ids):
        tags.setdefault(oid, set()).add(a)
    for oid, author, text in db.execute(f"SELECT n.opinion_id, n.author, n.text FROM opinion_notes n JOIN opinions o ON o.id = n.opinion_id WHERE o.response_id IN ({marks}) ORDER BY n.id", ids):
        notes.setdefault(oid, []).append(f"{author}：{text}")
    for (rid, receipt, slug, vid, unit, cat, at) in rs:
        cells = [receipt, ftitle.get(slug, slug), units.get(unit, unit or "（未指定单位）"), cats.get(cat, cat or ""), when(at)]
        ans = answers.get(rid, {})
        for s, qid, kind in cols:
            a = ans.get(qid) if s == slug else None
            shown, codes = show(kind, a) if a else ("", "")
            cells.append(shown)
            if kind["type"] in ("single_choice", "multiple_choice", "rating", "matrix"):
                cells.append(codes)
        my = ops.get(rid, [])
        all_areas = sorted(set().union(*[tags.get(o, set()) for o in my])) if my else []
        cells.append("、".join(area_name[a] for a in all_areas))
        cells.append("、".join(dict.fromkeys(labels[oids[o]] for o in my)))
        cells.append("\n".join(n for o in my for n in notes.get(o, [])))
        for c, v in enumerate(cells):
            if v:
                ws.write_string(row, c, v)
        row += 1
ws.autofilter(0, 0, row - 1, len(headers) - 1)
wb.close()
print(f"python xlsxwriter wrote {out}")
