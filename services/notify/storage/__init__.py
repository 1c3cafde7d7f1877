"""Storage verbs per collection of the notify database; wired together in ../store.py.

Queries are shaped for both engines: the embedded store narrows a query only through
equality or ``$in`` on an indexed field (ranges scan the whole collection), so every hot
query starts from such a field (recipient, status, held, day bucket) and MongoDB uses the
same indexes.
"""
