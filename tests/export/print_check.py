#!/usr/bin/env python3
"""Checks that the report workbook prints: seeds a known data set of invented opinions into a fresh SQLite
file, writes a leader's protected workbook and the office's full one with `wenji export`, converts both
to PDF with LibreOffice, and asserts, from `pdftotext -bbox-layout` and pages rendered by `pdftoppm`:

- a page-count bound for the data set (main before the page setup: 60 and 81 pages for 100 opinions);
- every page names its sheet in the header and numbers itself in the footer;
- 汇总 prints on one page with its whole chart, and the 测评 chart's axis sits on its title's page;
- no two text lines overlap (a wrapped quote running into the next row) and every quote of an area
  sheet is printed in full inside its own row.

Run from anywhere: `tests/export/print_check.py`. Needs soffice, pdftotext, pdfinfo and pdftoppm
(libreoffice-calc-nogui, poppler-utils). WENJI_PRINT_OPINIONS sets the data set's size (default 100).
"""
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPINIONS = int(os.environ.get("WENJI_PRINT_OPINIONS", "100"))
# Pages allowed for the default data set: one or two per sheet (17 and 19 measured, main gave 60 and 81).
MAX_PAGES = {"report": 24, "full": 27}
AREA_SHEET = re.compile(r"^\d ")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class Line:
    def __init__(self, m):
        self.x0, self.y0, self.x1, self.y1 = (float(v) for v in m[:4])
        self.text = "".join(re.findall(r">([^<]*)</word>", m[4]))


def pages_of(pdf):
    """Each page as (width, height, lines sorted top to bottom)."""
    html = run("pdftotext", "-bbox-layout", str(pdf), "-").stdout
    pages = []
    for p in html.split("<page ")[1:]:
        w, h = (float(v) for v in re.match(r'width="([\d.]+)" height="([\d.]+)"', p).groups())
        lines = [Line(m) for m in re.findall(
            r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', p, re.S)]
        lines.sort(key=lambda l: (l.y0, l.x0))
        pages.append((w, h, lines))
    return pages


def sheet_of(page):
    """The sheet name the page header shows at its top left ('?' without a header)."""
    _, h, lines = page
    top = [l for l in lines if l.y1 < h * 0.08]
    return min(top, key=lambda l: l.x0).text if top else "?"


def quotes_by_sheet(xlsx):
    """Column A texts below the header row of every sheet, by sheet name (spaces dropped)."""
    z = zipfile.ZipFile(xlsx)
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    target = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
    target.update({a: b for b, a in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)})
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        sst = z.read("xl/sharedStrings.xml").decode()
        shared = [unxml("".join(re.findall(r"<t[^>]*>([^<]*)</t>", si))) for si in re.findall(r"<si>(.*?)</si>", sst, re.S)]
    out = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', wb):
        xml = z.read("xl/" + target[rid].lstrip("/").removeprefix("xl/")).decode()
        texts = []
        for attrs, body in re.findall(r'<c r="A(?!1")\d+"([^>]*)>(.*?)</c>', xml, re.S):
            if 't="inlineStr"' in attrs:
                texts.append(unxml("".join(re.findall(r"<t[^>]*>([^<]*)</t>", body))))
            elif 't="s"' in attrs:
                texts.append(shared[int(re.search(r"<v>(\d+)</v>", body).group(1))])
        out[unxml(name)] = ["".join(t.split()) for t in texts]
    return out


def unxml(s):
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


def check_overlaps(name, pages):
    """No two lines that share columns overlap by more than a sliver vertically."""
    bad = 0
    for i, (_, _, lines) in enumerate(pages):
        for a_i, a in enumerate(lines):
            for b in lines[a_i + 1:]:
                if b.y0 > a.y1:
                    break
                across = min(a.x1, b.x1) - max(a.x0, b.x0)
                down = min(a.y1, b.y1) - max(a.y0, b.y0)
                if across > 2 and down > 3:
                    bad += 1
                    if bad <= 5:
                        fail(f"{name} page {i + 1}: '{a.text[:20]}' overlaps '{b.text[:20]}' by {down:.1f} pt")
    return bad


def check_quotes(name, pages, quotes):
    """Every quote of an area sheet is printed whole, in column A of its sheet's pages."""
    printed = {}
    for _, h, lines in pages:
        sheet = "".join(sheet_of((0, h, lines)).split())
        head = next((l for l in lines if l.text == "意见原文"), None)
        if head is None:
            continue
        col = [l.text for l in lines if abs(l.x0 - head.x0) < 3 and l.y0 > head.y1 - 1 and "页，共" not in l.text]
        printed[sheet] = printed.get(sheet, "") + "".join("".join(col).split())
    missing = 0
    for sheet, texts in quotes.items():
        if not AREA_SHEET.match(sheet):
            continue
        key = "".join(sheet.split())
        for t in texts:
            if t and t not in printed.get(key, ""):
                missing += 1
                if missing <= 5:
                    fail(f"{name}: the quote '{t[:24]}…' of sheet {sheet} is not printed whole in its row")
    return missing


def numbers_below(lines, title):
    """Numeric axis labels on the same page below a chart title."""
    return [l.text for l in lines if l.y0 > title.y1 and re.fullmatch(r"\d+%?", l.text)]


def check_charts(name, pdf, pages):
    summary = [i for i, p in enumerate(pages) if sheet_of(p) == "汇总"]
    if len(summary) != 1:
        fail(f"{name}: 汇总 takes {len(summary) or 'no'} page(s) with its name in the header, not exactly one")
    found = False
    for i, (w, h, lines) in enumerate(pages):
        title = next((l for l in lines if l.text == "各领域意见条数"), None)
        if title is None:
            continue
        found = True
        whole = all(any(l.text == t for l in lines) for t in ("分析报告数据汇总", "答卷总数"))
        ticks = numbers_below(lines, title)
        if not whole or "0" not in ticks or len(ticks) < 3:
            fail(f"{name} page {i + 1}: the 汇总 chart does not print whole with its table (axis labels {ticks})")
        check_render(name, pdf, i + 1)
    if not found:
        fail(f"{name}: the 汇总 chart's title is on no page")
    for i, (_, _, lines) in enumerate(pages):
        title = next((l for l in lines if l.text == "测评等级分布"), None)
        if title is not None:
            ticks = numbers_below(lines, title)
            if "0%" not in ticks or "100%" not in ticks:
                fail(f"{name} page {i + 1}: the 测评 chart is cut: its axis is not on its title's page ({ticks})")


def check_render(name, pdf, page):
    """Renders a page and checks that nothing is drawn on its outer edge (a chart cut by the page)."""
    with tempfile.TemporaryDirectory() as d:
        run("pdftoppm", "-gray", "-r", "40", "-f", str(page), "-l", str(page), str(pdf), f"{d}/p")
        pgm = next(Path(d).glob("p*.pgm")).read_bytes()
        fields = pgm.split(maxsplit=4)
        w, h = int(fields[1]), int(fields[2])
        px = fields[4][-w * h:]
        edge = 3
        dark = sum(1 for y in range(h) for x in range(w)
                   if (x < edge or x >= w - edge or y < edge or y >= h - edge) and px[y * w + x] < 200)
        ink = sum(1 for b in px if b < 200)
        if dark:
            fail(f"{name} page {page}: {dark} pixels drawn on the page's edge: content is cut")
        if ink < 500:
            fail(f"{name} page {page}: the rendered page is almost blank ({ink} dark pixels)")


def main():
    for tool in ("soffice", "pdftotext", "pdfinfo", "pdftoppm"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            sys.exit(f"{tool} not found (apt-get install libreoffice-calc-nogui poppler-utils)")
    bin_dir = Path(os.environ.get("WENJI_PRINT_BIN") or Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug")
    if "WENJI_PRINT_BIN" not in os.environ:
        run("cargo", "build", "--quiet", "--bin", "wenji", "--example", "seed", cwd=ROOT)
    seed = bin_dir / "examples" / "seed" if (bin_dir / "examples" / "seed").exists() else bin_dir / "seed"
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        db = f"sqlite://{work}/wenji.db?mode=rwc"
        forms = str(ROOT / "forms")
        run(str(seed), "--database-url", db, "--opinions", str(OPINIONS), "--forms-dir", forms)
        common = [str(bin_dir / "wenji"), "--database-url", db, "--forms-dir", forms, "--data-dir", str(work / "data"), "export"]
        run(*common, "--form", "zhengqiu", "--format", "xlsx", "--out", str(work / "report.xlsx"))
        run(*common, "--form", "zhengqiu", "--form", "ceping", "--format", "xlsx", "--unprotected",
            "--out", str(work / "full.xlsx"))
        # A private profile: a LibreOffice already running would otherwise take the job and convert nothing.
        subprocess.run(["timeout", "600", "soffice", f"-env:UserInstallation=file://{work}/lo", "--headless",
                        "--convert-to", "pdf", "--outdir", str(work / "pdf"), str(work / "report.xlsx"),
                        str(work / "full.xlsx")], capture_output=True)
        for name in ("report", "full"):
            pdf = work / "pdf" / f"{name}.pdf"
            if not pdf.exists() or pdf.stat().st_size == 0:
                fail(f"LibreOffice could not convert {name}.xlsx")
                continue
            pages = pages_of(pdf)
            n = len(pages)
            if OPINIONS == 100 and n > MAX_PAGES[name]:
                fail(f"{name}: {n} pages for {OPINIONS} opinions, more than {MAX_PAGES[name]}")
            unnamed = [i + 1 for i, p in enumerate(pages) if sheet_of(p) == "?"]
            unnumbered = [i + 1 for i, (_, _, ls) in enumerate(pages) if not any(f"第{i + 1}页，共{n}页" == l.text for l in ls)]
            if unnamed or unnumbered:
                fail(f"{name}: pages without a header naming the sheet {unnamed[:5]} or a page number {unnumbered[:5]}")
            check_charts(name, pdf, pages)
            overlaps = check_overlaps(name, pages)
            missing = check_quotes(name, pages, quotes_by_sheet(work / f"{name}.xlsx"))
            print(f"{name}: {n} pages, {overlaps} overlapping lines, {missing} quotes not printed whole")
    if failures:
        print(f"{len(failures)} print check(s) failed")
        sys.exit(1)
    print("ok: the report workbooks print")


if __name__ == "__main__":
    main()
