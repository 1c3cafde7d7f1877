"""Drop the databases a `make test-mongo` run made: python -m tests.mongo.drop_test_databases
PREFIX (MONGO_URL from the environment)."""

from __future__ import annotations

import os
import sys

import pymongo


def main() -> None:
    prefix = sys.argv[1]
    if not prefix.startswith("lifecircle_test_"):
        sys.exit("refusing to drop databases that are not test databases")
    client = pymongo.MongoClient(os.environ["MONGO_URL"])
    for name in client.list_database_names():
        if name.startswith(prefix):
            client.drop_database(name)
            print("dropped", name)


if __name__ == "__main__":
    main()
