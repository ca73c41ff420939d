#!/usr/bin/env python3
"""The same workbook as `wenji export --form zhengqiu --form ceping --format xlsx --unprotected`, written by Python's
XlsxWriter (constant_memory), for comparison.

Reads the Wenji SQLite file directly and writes every sheet the Rust export writes, in the same order, with
the same cell values, column widths and cell formats: 汇总, 单位×领域, 类别×领域 (small-cell protection),
one sheet per area (representative quotes first, with unit, category, time, receipt and other areas),
共现, 测评, 未归类, 原始数据 (one row per response, labels and codes) and 说明, with both charts. The tallies
are counted from the same rows while the raw sheet is written. The counting rules of 说明 are read from
src/domain/report/method.rs so both workbooks say the same. Differences that remain: the small sheets'
strings are inline (constant_memory) where rust_xlsxwriter uses the shared-string table, numbers are
written with 16 significant digits instead of 17, and no sheet continues past Excel's row limit.

Usage: xlsxwriter_export.py DB_PATH FORMS_DIR OUT.xlsx
"""
import datetime
import json
import re
import sqlite3
import sys
import tomllib
from pathlib import Path

import xlsxwriter

db_path, forms_dir, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
K = 5  # wenji export's default --small-cell-k
db = sqlite3.connect(db_path)
areas = tomllib.loads((forms_dir / "areas.toml").read_text())["area"]
area_name = {a["code"]: a["name"] for a in areas}
unit_list = tomllib.loads((forms_dir / "units.toml").read_text())["unit"]
units = {u["code"]: u["name"] for u in unit_list}
FORMS = ("zhengqiu", "ceping")
versions = {vid: json.loads(d) for vid, d in db.execute("SELECT id, definition FROM form_versions ORDER BY id DESC")}
versions = {k: v for k, v in versions.items() if v["slug"] in FORMS}
cats, qtitle, ftitle = {}, {}, {}
for d in versions.values():
    ftitle.setdefault(d["slug"], d["title"])
    for c in d["categories"]:
        cats.setdefault(c["code"], c["label"])
    for q in d["questions"]:
        qtitle.setdefault((d["slug"], q["id"]), q["title"])
tz = datetime.timezone(datetime.timedelta(hours=8))
STATES = ("pending", "tagged", "verify", "invalid")
labels = {"pending": "待归类", "tagged": "已归类", "verify": "需核实", "invalid": "无效"}


def when(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def display_width(s):
    wide = ((0x1100, 0x115F), (0x2E80, 0xA4CF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFE30, 0xFE4F),
            (0xFF00, 0xFF60), (0xFFE0, 0xFFE6), (0x20000, 0x2FFFD), (0x30000, 0x3FFFD))
    return max((sum(2 if any(a <= ord(c) <= b for a, b in wide) else 1 for c in line) for line in s.split("\n")),
               default=0)


def width_for(samples, lo, hi):
    return min(max(max((display_width(s) for s in samples), default=0) + 2.0, lo), hi)


def tags_of(ids):
    out = {}
    q = "SELECT opinion_id, area_code FROM tag_assignments WHERE opinion_id IN (%s)" % ",".join("?" * len(ids))
    for oid, a in db.execute(q, ids):
        out.setdefault(oid, []).append(a)
    return out


wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
wrap = wb.add_format({"text_wrap": True, "valign": "top"})
bold = wb.add_format({"bold": True})
title_format = wb.add_format({"bold": True, "font_size": 14})
percent = wb.add_format({"num_format": "0.0%"})
summary_ws = wb.add_worksheet("汇总")
units_ws = wb.add_worksheet("单位×领域")
cats_ws = wb.add_worksheet("类别×领域")


def sheet(name, cols):
    """cols: (header, width, wrapped)"""
    ws = wb.add_worksheet(name)
    for i, (h, w, _) in enumerate(cols):
        ws.set_column(i, i, w)
        ws.write_string(0, i, h, head)
    ws.freeze_panes(1, 0)
    return ws, [c[2] for c in cols]


def put(ws, wrapped, row, cells):
    for c, v in enumerate(cells):
        if v:
            ws.write_string(row, c, v, wrap if wrapped[c] else None)


unit_w = width_for(list(units.values()) + ["（未指定单位）"], 10.0, 30.0)
cat_w = width_for(list(cats.values()) + ["填写人类别"], 10.0, 30.0)
SELECT = ("SELECT o.id, r.receipt, o.form_slug, o.question_id, o.unit_code, o.category_code, o.text, "
          "o.representative, o.state, o.submitted_at FROM ")
for code in sorted(area_name):
    ws, wrapped = sheet(f"{code} {area_name[code]}", [
        ("意见原文", 60, True), ("典型意见", 9, False), ("单位", unit_w, False), ("填写人类别", cat_w, False),
        ("提交时间", 17, False), ("回执号", 15, False), ("其他领域", 22, True), ("表单", 20, True), ("题目", 24, True)])
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
                put(ws, wrapped, row, [text, "★ 典型" if repr_ else "", units.get(unit, unit or "（未指定单位）"),
                                       cats.get(cat, cat or "（未选择类别）"), when(at), receipt,
                                       "、".join(area_name[a] for a in sorted(tags.get(oid, [])) if a != code),
                                       ftitle.get(slug, slug), qtitle.get((slug, qid), qid)])
                row += 1
    ws.autofilter(0, 0, row - 1, 8)

cooc_ws = wb.add_worksheet("共现")
appraisal_ws = wb.add_worksheet("测评")
ws, wrapped = sheet("未归类", [("意见原文", 60, True), ("状态", 9, False), ("单位", unit_w, False),
                              ("填写人类别", cat_w, False), ("提交时间", 17, False), ("回执号", 15, False),
                              ("表单", 20, True), ("题目", 24, True)])
row, after = 1, 0
while True:
    batch = db.execute(SELECT + "opinions o JOIN responses r ON r.id = o.response_id WHERE o.state <> 'invalid' "
                       "AND NOT EXISTS (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = o.id) AND o.id > ? "
                       "ORDER BY o.id LIMIT 5000", (after,)).fetchall()
    if not batch:
        break
    after = batch[-1][0]
    for (oid, receipt, slug, qid, unit, cat, text, repr_, state, at) in batch:
        put(ws, wrapped, row, [text, labels[state], units.get(unit, unit or "（未指定单位）"),
                               cats.get(cat, cat or "（未选择类别）"), when(at), receipt, ftitle.get(slug, slug),
                               qtitle.get((slug, qid), qid)])
        row += 1
ws.autofilter(0, 0, row - 1, 7)

# 原始数据: columns from every version of the exported forms, in the order the forms were asked for.
cols = []
for slug in FORMS:
    for d in (d for d in versions.values() if d["slug"] == slug):
        for q in d["questions"]:
            if q.get("contact_purpose") or q["kind"]["type"] == "phone" or (slug, q["id"]) in [c[:2] for c in cols]:
                continue
            cols.append((slug, q["id"], q["kind"]))
CODED = ("single_choice", "multiple_choice", "rating", "matrix")
headers = ["回执号", "表单", "单位", "填写人类别", "提交时间"]
for slug, qid, kind in cols:
    headers.append(f"【{ftitle[slug]}】{qtitle[(slug, qid)]}")
    if kind["type"] in CODED:
        headers.append(headers[-1] + "（代码）")
headers += ["意见所属领域", "意见状态", "分析备注"]
ws, wrapped = sheet("原始数据", [(h, width_for([h], 12.0, 40.0 if len(h) > 12 else 24.0), len(h) > 12)
                                 for h in headers])


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


# The tallies behind 汇总, the cross-tables, 共现 and 测评.
def cross_row():
    return {"respondents": 0, "areas": [0] * 8, "tagged": 0}


by_state = dict.fromkeys(STATES, 0)
n_opinions = n_responses = n_tagged = 0
area_opinions, area_responses = [0] * 8, [set() for _ in range(8)]
by_unit, by_cat = {}, {}
cooc = [[0] * 8 for _ in range(8)]
scale, ap_rows = [], []  # appraisal: grades [(code, label)], rows [[label, area, counts]]


def appraise(kind, answer):
    for c in kind["scale"]:
        if all(s[0] != c["code"] for s in scale):
            scale.append((c["code"], c["label"]))
            for r in ap_rows:
                r[2].append(0)
    for mrow in kind["rows"]:
        code = answer.get(mrow["code"])
        g = next((i for i, s in enumerate(scale) if s[0] == code), None)
        if code is None or g is None:
            continue
        at = next((r for r in ap_rows if r[0] == mrow["label"] and r[1] == mrow.get("area")), None)
        if at is None:
            at = [mrow["label"], mrow.get("area"), [0] * len(scale)]
            ap_rows.append(at)
        at[2][g] += 1


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
    for oid, rid, state in db.execute(f"SELECT id, response_id, state FROM opinions WHERE response_id IN ({marks}) ORDER BY id", ids):
        ops.setdefault(rid, []).append(oid)
        oids[oid] = state
    tags = {}
    for oid, a in db.execute(f"SELECT t.opinion_id, t.area_code FROM tag_assignments t JOIN opinions o ON o.id = t.opinion_id WHERE o.response_id IN ({marks})", ids):
        tags.setdefault(oid, set()).add(a)
    for oid, author, text in db.execute(f"SELECT n.opinion_id, n.author, n.text FROM opinion_notes n JOIN opinions o ON o.id = n.opinion_id WHERE o.response_id IN ({marks}) ORDER BY n.id", ids):
        notes.setdefault(oid, []).append(f"{author}：{text}")
    for (rid, receipt, slug, vid, unit, cat, at) in rs:
        cells = [receipt, ftitle.get(slug, slug), units.get(unit, unit or "（未指定单位）"),
                 cats.get(cat, cat or "（未选择类别）"), when(at)]
        ans = answers.get(rid, {})
        for s, qid, kind in cols:
            a = ans.get(qid) if s == slug else None
            shown, codes = show(kind, a) if a else ("", "")
            cells.append(shown)
            if kind["type"] in CODED:
                cells.append(codes)
        my = ops.get(rid, [])
        all_areas = sorted(set().union(*[tags.get(o, set()) for o in my])) if my else []
        cells.append("、".join(area_name[a] for a in all_areas))
        cells.append("、".join(dict.fromkeys(labels[oids[o]] for o in my)))
        cells.append("\n".join(n for o in my for n in notes.get(o, [])))
        put(ws, wrapped, row, cells)
        row += 1
        # Tallies: the response, its opinions, its appraisal answers.
        n_responses += 1
        by_unit.setdefault(unit, cross_row())["respondents"] += 1
        by_cat.setdefault(cat, cross_row())["respondents"] += 1
        for o in my:
            n_opinions += 1
            by_state[oids[o]] += 1
            areas_of = sorted(tags.get(o, ()))
            if oids[o] == "invalid" or not areas_of:
                continue
            n_tagged += 1
            u, c = by_unit.setdefault(unit, cross_row()), by_cat.setdefault(cat, cross_row())
            u["tagged"] += 1
            c["tagged"] += 1
            for a in areas_of:
                area_opinions[a - 1] += 1
                u["areas"][a - 1] += 1
                c["areas"][a - 1] += 1
                area_responses[a - 1].add(rid)
                for b in areas_of:
                    cooc[a - 1][b - 1] += 1
        version = versions.get(vid)
        for qid, a in ans.items():
            if a["type"] != "matrix":
                continue
            q = next((q for q in version["questions"] if q["id"] == qid), None) if version else None
            kind = q["kind"] if q else next((k for s, i, k in cols if s == slug and i == qid), None)
            if kind and kind["type"] == "matrix":
                appraise(kind, a["value"])
ws.autofilter(0, 0, row - 1, len(headers) - 1)

# 汇总
ws = summary_ws
ws.set_column(0, 0, 16)
ws.set_column(1, 1, 18)
ws.set_column(2, 2, 10)
ws.set_column(3, 3, 14)
ws.set_column(4, 4, 16)
ws.write_string(0, 0, "分析报告数据汇总", title_format)
for r, (lab, val) in enumerate([("生成时间", when(datetime.datetime.now().timestamp() * 1000)),
                                ("表单", "、".join(ftitle[f] for f in FORMS)), ("日期范围", "全部日期"),
                                ("单位", "全部单位"), ("小单元保护", f"交叉表中答卷少于 {K} 份的单位、类别显示为“<{K}”")], 1):
    ws.write_string(r, 0, lab, bold)
    ws.write_string(r, 1, val)
top = 7
for i, t in enumerate(["代码", "领域", "意见条数", "占已归类意见", "涉及答卷（份）"]):
    ws.write_string(top, i, t, head)
for i in range(8):
    ws.write_string(top + 1 + i, 0, str(i + 1))
    ws.write_string(top + 1 + i, 1, area_name[i + 1])
    ws.write_number(top + 1 + i, 2, area_opinions[i])
    ws.write_number(top + 1 + i, 3, area_opinions[i] / n_tagged if n_tagged else 0.0, percent)
    ws.write_number(top + 1 + i, 4, len(area_responses[i]))
last = top + 8
ws.write_string(last + 1, 1, "标签合计", bold)
ws.write_number(last + 1, 2, sum(area_opinions), bold)
ws.write_string(last + 1, 3, "一条意见可计入多个领域")
ws.write_string(last + 3, 0, "项目", head)
ws.write_string(last + 3, 1, "数量", head)
for r, (lab, n) in enumerate([("意见总数", n_opinions)] + [(labels[s], by_state[s]) for s in STATES]
                             + [("已归类意见（每条只计一次，不含无效）", n_tagged), ("答卷总数", n_responses)], last + 4):
    ws.write_string(r, 0, lab)
    ws.write_number(r, 1, n)
ws.freeze_panes(top + 1, 0)
ws.autofilter(top, 0, last, 4)
chart = wb.add_chart({"type": "bar"})
chart.add_series({"name": "意见条数", "categories": ["汇总", top + 1, 1, last, 1], "values": ["汇总", top + 1, 2, last, 2]})
chart.set_title({"name": "各领域意见条数"})
chart.set_legend({"none": True})
chart.set_size({"width": 560, "height": 340})
ws.insert_chart(top, 6, chart)


def protect(rows, k):
    """Small-cell protection as src/domain/report/protect.rs does it."""
    total = cross_row()
    for _, r in rows:
        add(total, r)
    hidden = ["small" if r["respondents"] < k else None for _, r in rows]

    def pool_n():
        return sum(r["respondents"] for (_, r), h in zip(rows, hidden) if h)

    if any(hidden):
        while pool_n() < k:
            shown = [(r["respondents"], i) for i, (_, r) in enumerate(rows) if hidden[i] is None]
            if not shown:
                break
            hidden[min(shown)[1]] = "merged"
    pooled = None
    for (_, r), h in zip(rows, hidden):
        if h:
            pooled = pooled or [0, cross_row()]
            pooled[0] += 1
            add(pooled[1], r)
    return hidden, pooled, total, k > 0 and total["respondents"] < k and bool(rows)


def add(to, r):
    to["respondents"] += r["respondents"]
    to["tagged"] += r["tagged"]
    to["areas"] = [a + b for a, b in zip(to["areas"], r["areas"])]


def cross(ws, what, rows):
    hidden, pooled, total, all_hidden = protect(rows, K)
    small = f"<{K}"
    ws.set_column(0, 0, width_for([lab for lab, _ in rows] + [what], 12.0, 40.0))
    ws.set_column(1, 11, 11)
    ws.set_row(1, 32)
    ws.write_string(0, 0, f"答卷少于 {K} 份的{what}显示为“{small}”，其数字并入“合并”行，合计不变；口径见“说明”表。")
    for i, s in enumerate([what, "答卷（份）"] + [f"{a} {area_name[a]}" for a in range(1, 9)] + ["标签合计", "意见条数"]):
        ws.write_string(1, i, s, head)

    def write_row(r, cells, text, fmt=None):
        for col in range(1, 12):
            if cells is None:
                ws.write_string(r, col, text)
            else:
                v = [cells["respondents"], *cells["areas"], sum(cells["areas"]), cells["tagged"]][col - 1]
                ws.write_number(r, col, v, fmt)

    r = 2
    for (lab, cells), h in zip(rows, hidden):
        ws.write_string(r, 0, lab)
        if not h and not all_hidden:
            write_row(r, cells, "")
        elif h == "merged" and not all_hidden:
            write_row(r, None, "已并入合并行")
        else:
            write_row(r, None, small)
        r += 1
    last_data = max(r - 1, 1)
    if pooled:
        ws.write_string(r, 0, f"合并：{pooled[0]} 个{what}", bold)
        write_row(r, None if all_hidden else pooled[1], small)
        r += 1
    ws.write_string(r, 0, "合计", bold)
    write_row(r, None if all_hidden else total, small, bold)
    ws.freeze_panes(2, 1)
    ws.autofilter(1, 0, last_data, 11)


def ordered(table, first, name):
    keys = [c for c in first if c in table]
    keys += sorted(c for c in table if c is not None and c not in first)
    keys += [None] if None in table else []
    return [(name(c), table[c]) for c in keys]


cross(units_ws, "单位", ordered(by_unit, [u["code"] for u in unit_list], lambda c: units.get(c, c or "（未指定单位）")))
form_cats = list(dict.fromkeys(c["code"] for f in FORMS for d in versions.values() if d["slug"] == f
                               for c in d["categories"]))
cross(cats_ws, "填写人类别", ordered(by_cat, form_cats, lambda c: cats.get(c, c or "（未选择类别）")))

# 共现
ws = cooc_ws
ws.set_column(0, 0, 26)
ws.set_column(1, 8, 14)
ws.write_string(0, 0, "领域（同时归入的意见条数）", head)
for a in range(8):
    ws.write_string(0, a + 1, f"{a + 1} {area_name[a + 1]}", head)
for a in range(8):
    ws.write_string(a + 1, 0, f"{a + 1} {area_name[a + 1]}", head)
    for b in range(8):
        ws.write_number(a + 1, b + 1, cooc[a][b])
ws.freeze_panes(1, 1)

# 测评
ws = appraisal_ws
if not ap_rows:
    ws.write_string(0, 0, "所选表单没有测评题（按领域逐项评价的矩阵题），或尚无测评答卷。")
else:
    g = len(scale)
    ws.set_column(0, 0, width_for([r[0] for r in ap_rows], 12.0, 30.0))
    ws.write_string(0, 0, "测评项", head)
    for i, (_, lab) in enumerate(scale):
        ws.write_string(0, 1 + i, lab, head)
    ws.write_string(0, 1 + g, "合计（份）", head)
    for i, (_, lab) in enumerate(scale):
        ws.write_string(0, 2 + g + i, f"{lab}占比", head)
    for i, (lab, _, counts) in enumerate(ap_rows, 1):
        total = sum(counts)
        ws.write_string(i, 0, lab)
        for j, n in enumerate(counts):
            ws.write_number(i, 1 + j, n)
        ws.write_number(i, 1 + g, total)
        for j, n in enumerate(counts):
            ws.write_number(i, 2 + g + j, n / total if total else 0.0, percent)
    last = len(ap_rows)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, last, 1 + 2 * g)
    chart = wb.add_chart({"type": "bar", "subtype": "percent_stacked"})
    for j in range(g):
        chart.add_series({"name": ["测评", 0, 1 + j], "categories": ["测评", 1, 0, last, 0],
                          "values": ["测评", 1, 1 + j, last, 1 + j]})
    chart.set_title({"name": "各领域测评等级分布"})
    chart.set_size({"width": 620, "height": 380})
    ws.insert_chart(last + 2, 0, chart)

# 说明: the rules are the string literals of counting_rules(k) in method.rs.
method = (Path(__file__).resolve().parents[2] / "src/domain/report/method.rs").read_text()
rules = [s.replace("{k}", str(K)) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', method.split("vec![", 1)[1])]
ws = wb.add_worksheet("说明")
ws.set_column(0, 0, 8)
ws.set_column(1, 1, 16)
ws.set_column(2, 2, 90)
for i, t in enumerate(["代码", "领域", "定义"]):
    ws.write_string(0, i, t, head)
for a in areas:
    ws.write_string(a["code"], 0, str(a["code"]))
    ws.write_string(a["code"], 1, a["name"])
    ws.write_string(a["code"], 2, a["definition"], wrap)
ws.write_string(10, 0, "序号", head)
ws.write_blank(10, 1, None, head)
ws.write_string(10, 2, "统计口径", head)
for i, rule in enumerate(rules):
    ws.write_string(11 + i, 0, str(i + 1))
    ws.write_string(11 + i, 2, rule, wrap)
ws.freeze_panes(1, 0)
wb.set_properties({"title": "问计 分析报告数据", "author": "问计 Wenji"})
wb.close()
print(f"python xlsxwriter wrote {out}")
