"""JSON request bodies of the v2 routes that take one (v2 spec §3)."""

import json

from glance_lite.common import exception


def check_size(size, limit):
    """Refuse a body of ``size`` bytes over ``limit`` (None: no limit).

    :raises LimitExceeded: over the limit (413).
    """
    if limit is not None and size > limit:
        raise exception.LimitExceeded(
            "The JSON request body is %d bytes, more than the %d bytes "
            "allowed." % (size, limit))


def _refuse_constant(name):
    # Python's json reads NaN and Infinity, which are not JSON and which no
    # image attribute can hold.
    raise ValueError('%s is not JSON' % name)


def load_json(body, max_size=None):
    """The JSON object or array a request body holds.

    :param body: the body bytes (None or empty: no body).
    :param max_size: most bytes accepted, None for no limit.
    :raises LimitExceeded: the body is over ``max_size`` (413).
    :raises Invalid: "Body expected in request.", "Malformed JSON in
        request body." (also for text that is not UTF-8) or "Unexpected
        body type. Expected list/dict." (400).
    """
    if not body:
        raise exception.Invalid("Body expected in request.")
    check_size(len(body), max_size)
    try:
        data = json.loads(body.decode('utf-8'),
                          parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: arrays nested thousands deep, within the size
        # cap, are as unusable as broken JSON.
        raise exception.Invalid("Malformed JSON in request body.")
    if not isinstance(data, (dict, list)):
        raise exception.Invalid("Unexpected body type. Expected list/dict.")
    return data
