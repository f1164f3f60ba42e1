"""Arguments of catalogue calls that no engine can store."""

from glance_lite.common import exception


def _unstorable(value):
    if isinstance(value, str):
        if '\x00' in value:
            return True
        try:
            value.encode('utf-8')
        except UnicodeEncodeError:  # an unpaired surrogate (from JSON)
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v)
                   for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_unstorable(v) for v in value)
    return False


def reject_unstorable(args, kwargs):
    """Refuse text holding an unpaired surrogate, which no engine can
    store or compare, or NUL characters, which PostgreSQL cannot: alike on
    every engine (Invalid, 400; never a database error).

    :raises Invalid: some argument, at any depth, holds such text.
    """
    if _unstorable(args) or _unstorable(kwargs):
        raise exception.Invalid("Text can't contain NUL characters or "
                                "unpaired surrogates.")
