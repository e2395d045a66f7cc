#!/usr/bin/env python3
"""Template bench, Python side: renders workbook plans (JSON lines written by
src/template/bench.rs) with XlsxWriter, the same cells, formulas and cached results, formats,
validations, chart and properties as src/template/render.rs. Single-threaded; only the rendering
is timed. Prints one JSON line: {"seconds": ..., "bytes": ..., "workbooks": ...}."""
import datetime
import io
import json
import sys
import time

import xlsxwriter

# Must mirror src/template/render.rs (Style::ALL order).
MONEY = '#,##0.00\\ "€"'
DATE = "dd/mm/yyyy"
HOURS = "#,##0.00"
PERCENT = "0.0%"
THIN = {"border": 1, "border_color": "#BFBFBF"}
INPUT = dict(THIN, locked=False, bg_color="#FFF2CC")
COMPUTED = dict(THIN, bg_color="#F2F2F2")
STYLES = [
    {"bold": True, "font_size": 14},  # Title
    {"italic": True, "font_color": "#595959"},  # Subtitle
    dict(THIN, bold=True, font_color="#FFFFFF", bg_color="#1F4E79", text_wrap=True,
         align="center", valign="vcenter"),  # Header
    dict(THIN),  # Label
    dict(THIN, bold=True),  # LabelBold
    dict(THIN),  # Text
    dict(INPUT),  # TextInput
    dict(THIN, num_format=MONEY),  # Money
    dict(INPUT, num_format=MONEY),  # MoneyInput
    dict(COMPUTED, num_format=MONEY),  # MoneyFormula
    dict(THIN, bold=True, num_format=MONEY, bg_color="#DDEBF7"),  # MoneyTotal
    dict(THIN, num_format=DATE),  # Date
    dict(INPUT, num_format=DATE),  # DateInput
    dict(INPUT, num_format=HOURS),  # HoursInput
    dict(COMPUTED, num_format=HOURS),  # RateFormula
    dict(THIN, num_format=PERCENT),  # Percent
    dict(COMPUTED, num_format=PERCENT),  # PercentFormula
    {"hidden": True, "font_color": "#808080"},  # Identity
    dict(THIN, bold=True, align="center", bg_color="#DDEBF7"),  # Year
    dict(THIN, num_format="#,##0"),  # Integer
]


def render(plan):
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    formats = [wb.add_format(s) for s in STYLES]
    p = plan["properties"]
    created = datetime.datetime.fromisoformat(p["created"]).replace(tzinfo=None)
    wb.set_properties({"title": p["title"], "subject": p["subject"], "author": p["author"],
                       "company": p["company"], "keywords": p["keywords"],
                       "comments": p["comment"], "created": created})
    for name, value in p["custom"]:
        wb.set_custom_property(name, value)
    for sh in plan["sheets"]:
        ws = wb.add_worksheet(sh["name"])
        for c in sh["columns"]:
            ws.set_column(c["col"], c["col"], c["width"], None, {"hidden": c["hidden"]})
        for cell in sh["cells"]:
            r, c, style, kind = cell[0], cell[1], cell[2], cell[3]
            f = formats[style]
            if kind == "T":
                ws.write_string(r, c, cell[4], f)
            elif kind == "N":
                ws.write_number(r, c, cell[4], f)
            elif kind == "F":
                ws.write_formula(r, c, cell[4], f, cell[5])
            elif kind == "D":
                ws.write_datetime(r, c, datetime.date.fromisoformat(cell[4]), f)
            else:
                ws.write_blank(r, c, None, f)
        if sh["freeze"]:
            ws.freeze_panes(sh["freeze"][0], sh["freeze"][1])
        for v in sh["validations"]:
            ws.data_validation(v["first_row"], v["first_col"], v["last_row"], v["last_col"],
                               {"validate": "list", "source": v["source"],
                                "input_title": v["title"], "input_message": v["message"]})
        ch = sh["chart"]
        if ch:
            chart = wb.add_chart({"type": "column"})
            line = wb.add_chart({"type": "line"})
            has_line = False
            for s in ch["series"]:
                target = chart if s["kind"] == "Column" else line
                has_line = has_line or s["kind"] == "Line"
                target.add_series({"name": s["name"], "categories": ch["categories"],
                                   "values": s["values"]})
            if has_line:
                chart.combine(line)
            chart.set_title({"name": ch["title"]})
            chart.set_y_axis({"name": ch["y_axis_title"]})
            chart.set_size({"width": 640, "height": 360})
            ws.insert_chart(ch["anchor_row"], ch["anchor_col"], chart)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        if sh["hidden"]:
            ws.hide()
        if sh["protect"]:
            ws.protect()
    for name, formula in plan["defined_names"]:
        wb.define_name(name, formula)
    wb.close()
    return len(buf.getvalue())


def main():
    seconds = 0.0
    total = 0
    count = 0
    with open(sys.argv[1], encoding="utf-8") as plans:
        for line in plans:
            plan = json.loads(line)
            started = time.perf_counter()
            total += render(plan)
            seconds += time.perf_counter() - started
            count += 1
    print(json.dumps({"seconds": seconds, "bytes": total, "workbooks": count}))


if __name__ == "__main__":
    main()
