"""Baseline for tests/measure-migrations.sh: the same seven up files applied with Python's sqlite3, each in
its own BEGIN IMMEDIATE ... COMMIT with a bookkeeping INSERT, on fresh files in the same folder, WAL and
synchronous FULL (as the gateway). Prints the median time per migration in microseconds."""
import glob
import os
import sqlite3
import statistics
import sys
import time

source, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(glob.glob(os.path.join(source, "*.up.sql")))
samples = []
for run in range(runs):
    path = os.path.join(work, f"baseline{run}.db")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE book (version INTEGER PRIMARY KEY, checksum BLOB)")
    for number, file in enumerate(files):
        sql = open(file, encoding="utf-8").read()
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        statement = ""
        for line in sql.splitlines(True):
            statement += line
            if sqlite3.complete_statement(statement):
                connection.execute(statement)
                statement = ""
        connection.execute("INSERT INTO book VALUES (?, ?)", (number, b"x" * 48))
        connection.execute("COMMIT")
        samples.append((time.perf_counter() - started) * 1e6)
    connection.close()
print(int(statistics.median(samples)))
