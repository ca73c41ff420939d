"""Reads a Wenji SQLite database from another process while the load runs, as a backup script or an
analyst's sqlite3 shell would, and prints how many reads failed. A process must never see the database
malformed or locked for long while Wenji writes: `tests/bench/load.sh` runs this beside its Wenji runs.
    python3 tests/bench/reader.py DB_PATH SECONDS
"""
import sqlite3
import sys
import time

db, secs = sys.argv[1], float(sys.argv[2])
errors, reads, end = {}, 0, time.time() + secs
while time.time() < end:
    try:
        c = sqlite3.connect(db, timeout=10)
        # Light reads (the other process must not slow the run down): the newest rows of each table.
        for table in ("responses", "opinions"):
            c.execute(f"SELECT * FROM {table} ORDER BY id DESC LIMIT 5").fetchall()
        c.close()
        reads += 1
    except sqlite3.Error as e:
        errors[str(e)] = errors.get(str(e), 0) + 1
    time.sleep(0.1)
print(f"reads from another process during the runs: {reads}, failed: {sum(errors.values())} {errors or ''}")
