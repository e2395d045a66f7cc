#!/usr/bin/env python3
"""Writes the PostgreSQL twin of the golden SQLite ledger (run once, when the golden was taken).

Usage: python3 tests/golden/make_pg_dump.py GOLDEN.db POSTGRES_DB_NAME > out.sql
  1. createdb NAME; `care-ledger verify --database postgres://postgres@127.0.0.1/NAME` applies the
     migrations of the day;
  2. this script prints INSERTs of every row of the SQLite ledger, piped into psql;
  3. `pg_dump --inserts --no-owner NAME` is the committed dump.
"""
import sqlite3
import sys


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, bytes):
        return "'\\x" + v.hex() + "'::bytea"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


db = sqlite3.connect(sys.argv[1])
print("BEGIN;")
for table in ["events", "idempotency_keys", "api_tokens", "documents"]:
    cur = db.execute(f"SELECT * FROM {table}")
    cols = [d[0] for d in cur.description]
    for row in cur:
        print(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(lit(v) for v in row)});")
print("COMMIT;")
