"""The embedded store: one process at a time, and an acknowledged write survives kill -9."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from services.common.store import StoreLockedError, open_database

WRITER = textwrap.dedent("""
    import sys, time
    from services.common.store import open_database
    db = open_database("orders", "", sys.argv[1]).db
    for n in range(int(sys.argv[2])):
        db["orders"].insert_one({"_id": n, "status": "pending"})
        db["orders"].update_one({"_id": n}, {"$set": {"status": "confirmed"}})
        print(n, flush=True)  # the acknowledgement
    time.sleep(60)
""")


def test_a_write_acknowledged_before_kill_minus_9_is_still_there(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "50"],
                            stdout=subprocess.PIPE, text=True)
    acknowledged = [int(proc.stdout.readline()) for _ in range(50)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    database = open_database("orders", "", str(tmp_path))  # the lock died with the process
    try:
        docs = {d["_id"]: d["status"] for d in database.db["orders"].find()}
    finally:
        database.close()
    assert all(docs[n] == "confirmed" for n in acknowledged)


def test_a_second_opener_is_refused_with_the_holder_named(tmp_path):
    first = open_database("catalog", "", str(tmp_path))
    try:
        with pytest.raises(StoreLockedError) as refused:
            open_database("catalog", "", str(tmp_path))
        assert "pid" in str(refused.value) and "MONGO_URL" in str(refused.value)
        open_database("orders", "", str(tmp_path)).close()  # other services are not affected
    finally:
        first.close()
    open_database("catalog", "", str(tmp_path)).close()  # free again after closing


def test_a_mongo_url_must_be_a_mongodb_url(tmp_path):
    with pytest.raises(ValueError, match="mongodb://"):
        open_database("catalog", "http://localhost", str(tmp_path))
