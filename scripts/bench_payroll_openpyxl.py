#!/usr/bin/env python3
"""Reads every cell of a workbook with openpyxl (read-only mode, values only), single-threaded.

Used by the payroll benchmark (src/payroll/bench.rs) as the Python baseline. Prints the seconds spent
opening and reading (interpreter start-up excluded) and the number of non-empty cells read.
"""
import sys
import time

import openpyxl


def main(path: str) -> None:
    start = time.perf_counter()
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    cells = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if value is not None:
                    cells += 1
    workbook.close()
    elapsed = time.perf_counter() - start
    print(f"seconds={elapsed:.6f}")
    print(f"cells={cells}")


if __name__ == "__main__":
    main(sys.argv[1])
