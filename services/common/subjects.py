"""What a person's subject (the token's ``sub``) may look like. Pure: the gateway checks tokens
with it and every service checks the actor it is given.

Letters, digits and ``_ . @ | + -`` (an identity provider's ids, e-mail addresses,
``auth0|123``), never a ``:`` — so names services build with a prefix, like the dispatchers'
shared inbox ``role:dispatcher``, can never be a person's subject.
"""

from __future__ import annotations

import re

SUBJECT_PATTERN = r"^[A-Za-z0-9_.@|+-]{1,128}$"
_SUBJECT = re.compile(SUBJECT_PATTERN)


def valid_subject(sub: object) -> bool:
    return isinstance(sub, str) and _SUBJECT.fullmatch(sub) is not None
