"""The query of ``GET /v2/images`` (v2 spec §9.2, v2 spec §9.4), parsed
into an ``ImageListQuery`` that the catalogue executes, and the ``first``
and ``next`` links of a page (v2 spec §9.1).

Pure parsing: nothing here reads the catalogue, so whether a marker exists
and who may see which image is decided where the query is executed.

A parameter that takes one value and is repeated counts with its last
value, as ``req.GET[name]`` gives it; every occurrence is still validated,
and all of them stay in ``query_items`` and so in the links (V3 of the
v2 spec §23), so a following page is parsed exactly as this one.
Parameters that accumulate: ``tag``, ``sort``, ``sort_key``, ``sort_dir``,
and the time comparisons, so ``created_at=gte:A&created_at=lt:B`` asks for
a range.
"""

import dataclasses
import datetime
import re
import typing
import urllib.parse

from oslo_config import cfg
from oslo_utils import timeutils

from glance_lite.common import exception

CONF = cfg.CONF

LIST_PATH = '/v2/images'
CONTROL_PARAMS = ('limit', 'marker', 'member_status', 'tag', 'sort',
                  'sort_key', 'sort_dir')
MEMBER_STATUSES = ('accepted', 'pending', 'rejected', 'all')
VISIBILITIES = ('public', 'private', 'shared', 'community', 'all')
# Filters written V, eq:V or in:V1,V2,... (v2 spec §9.2.1).
MATCH_FILTERS = ('name', 'id', 'status', 'container_format', 'disk_format')
TIME_FILTERS = ('created_at', 'updated_at')
TIME_OPERATORS = ('gt', 'gte', 'lt', 'lte', 'eq', 'neq')
STRING_FILTERS = ('owner', 'checksum', 'os_hash_value')
INTEGER_FILTERS = ('min_ram', 'min_disk', 'virtual_size', 'size')
SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
SORT_DIRS = ('asc', 'desc')
DEFAULT_SORT_DIR = 'desc'
MAX_TAG_LENGTH = 255
# The catalogue's integer columns are signed 64-bit.
MIN_INT64 = -2 ** 63
MAX_INT64 = 2 ** 63 - 1

_INTEGER = re.compile(r'[+-]?[0-9]+')

TimeComparison = typing.Tuple[str, datetime.datetime]


@dataclasses.dataclass(frozen=True)
class ImageListQuery:
    """One page of ``GET /v2/images`` as the catalogue must answer it.

    A field left at its default filters nothing. Every filter must hold
    (AND). The caller's identity is not part of it: the visibility rules of
    v2 spec §9.3 apply on top.
    """

    # Page size: 0 asks for an empty page.
    limit: int
    # Id of the image the page starts strictly after (in ``sort`` order);
    # not checked here: unknown, deleted or invisible → 400 "No image found
    # with ID <id>" where the catalogue is read (V4, V22).
    marker: typing.Optional[str] = None
    member_status: str = 'accepted'
    # None: the default rule of v2 spec §9.3 (community images of others
    # left out); else one of VISIBILITIES.
    visibility: typing.Optional[str] = None
    # False: hidden images are left out; True: only hidden ones are listed.
    os_hidden: bool = False
    protected: typing.Optional[bool] = None
    # The image has every one of these tags.
    tags: typing.Tuple[str, ...] = ()
    # Each: None, or the values the attribute may have (column IN values).
    name: typing.Optional[typing.Tuple[str, ...]] = None
    id: typing.Optional[typing.Tuple[str, ...]] = None
    status: typing.Optional[typing.Tuple[str, ...]] = None
    container_format: typing.Optional[typing.Tuple[str, ...]] = None
    disk_format: typing.Optional[typing.Tuple[str, ...]] = None
    # (operator, moment): operator in TIME_OPERATORS, moment an aware UTC
    # datetime in whole seconds, compared with the attribute truncated to
    # whole seconds (V7); every comparison must hold.
    created_at: typing.Tuple[TimeComparison, ...] = ()
    updated_at: typing.Tuple[TimeComparison, ...] = ()
    # size >= size_min, size <= size_max; a null size never matches.
    size_min: typing.Optional[int] = None
    size_max: typing.Optional[int] = None
    # Exact matches.
    owner: typing.Optional[str] = None
    checksum: typing.Optional[str] = None
    os_hash_value: typing.Optional[str] = None
    min_ram: typing.Optional[int] = None
    min_disk: typing.Optional[int] = None
    virtual_size: typing.Optional[int] = None
    size: typing.Optional[int] = None
    # (name, value): the image has the additional property ``name`` with
    # exactly ``value``; in order of first appearance, one pair per name.
    properties: typing.Tuple[typing.Tuple[str, str], ...] = ()
    # (key, direction) pairs, most significant first, always ending with
    # the created_at and id tie-breakers.
    sort: typing.Tuple[typing.Tuple[str, str], ...] = (
        ('created_at', 'desc'), ('id', 'desc'))
    # Every (name, value) of the request's query, in request order, for
    # first_link and next_link.
    query_items: typing.Tuple[typing.Tuple[str, str], ...] = ()


def parse(params):
    """The ImageListQuery of a list request's query.

    :param params: ``req.GET``, or any MultiDict whose ``items()`` yields
        every (name, value) pair in request order.
    :raises Invalid: a parameter with a bad value (400), with the message
        of v2 spec §9.2 or v2 spec §9.4.
    """
    items = tuple(params.items())
    fields = {'query_items': items}
    for name, value in items:
        if name == 'limit':
            fields['limit'] = _limit(value)
        elif name == 'marker':
            fields['marker'] = value
        elif name == 'member_status':
            fields['member_status'] = _member_status(value)
    fields.setdefault('limit', CONF.limit_param_default)
    fields.update(_filters(items))
    fields['tags'] = _tags(items)
    fields['sort'] = _sort(items)
    return ImageListQuery(**fields)


def first_link(query_items):
    """The ``first`` link of a list page: ``/v2/images`` with the request's
    query minus ``marker`` (v2 spec §9.1)."""
    return _link([(name, value) for name, value in query_items
                  if name != 'marker'])


def next_link(query_items, last_id):
    """The ``next`` link of a full page whose last image is ``last_id``:
    the request's query with ``marker`` set to it (v2 spec §9.1).

    The marker keeps the place of the request's first ``marker`` (any
    other is dropped), or comes last.
    """
    items = []
    placed = False
    for name, value in query_items:
        if name != 'marker':
            items.append((name, value))
        elif not placed:
            items.append(('marker', last_id))
            placed = True
    if not placed:
        items.append(('marker', last_id))
    return _link(items)


def _link(items):
    if not items:
        return LIST_PATH
    return '%s?%s' % (LIST_PATH, urllib.parse.urlencode(items))


def _integer(text):
    """The int ``text`` spells in ASCII digits, or None."""
    if not _INTEGER.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:
        # More digits than Python converts (sys.get_int_max_str_digits):
        # no real value, so it is refused like any other non-integer.
        return None


def _limit(value):
    limit = _integer(value)
    if limit is None:
        raise exception.Invalid("limit param must be an integer")
    if limit < 0:
        raise exception.Invalid("limit param must be positive")
    return min(limit, CONF.api_limit_max)


def _member_status(value):
    if value not in MEMBER_STATUSES:
        raise exception.Invalid("Invalid status: %s" % value)
    return value


def _visibility(name, value):
    if value not in VISIBILITIES:
        raise exception.Invalid("Invalid visibility value: %s" % value)
    return value


def _os_hidden(name, value):
    word = value.lower()
    if word not in ('true', 'false'):
        raise exception.Invalid(
            "Invalid value '%s' for 'os_hidden' filter. Valid values are "
            "'true' or 'false'." % value)
    return word == 'true'


def _protected(name, value):
    if value not in ('true', 'false'):
        raise exception.Invalid(
            "Invalid value '%s' for 'protected' filter. Valid values are "
            "'true' or 'false'." % value)
    return value == 'true'


def _range_bound(name, value):
    bound = _integer(value)
    if bound is None:
        raise exception.Invalid(
            "Unable to filter on a range with a non-numeric value.")
    # Beyond the column's range the comparison is already decided; the
    # clamped bound decides it the same way for every size an image can
    # have, and keeps the database from refusing the number.
    return max(MIN_INT64, min(bound, MAX_INT64))


def _exact_integer(name, value):
    number = _integer(value)
    if number is None or not MIN_INT64 <= number <= MAX_INT64:
        # Glance lets the database fail on these (V8).
        raise exception.Invalid("Invalid value '%s' for filter '%s'"
                                % (value, name))
    return number


def _exact_string(name, value):
    return value


def _changes_since(name, value):
    raise exception.Invalid(
        'The "changes-since" filter is no longer available on v2.')


def _is_timestamp(text):
    try:
        timeutils.parse_isotime(text)
    except (ValueError, OverflowError):
        return False
    return True


def _split_operator(value):
    """(operator, operand) of a filter value ``op:operand``. A value without
    a colon, or one that as a whole is an ISO 8601 timestamp (whose colons
    are not operators, v2 spec §9.2.2), is the operand of ``eq``."""
    operator, colon, operand = value.partition(':')
    if not colon or _is_timestamp(value):
        return 'eq', value
    return operator, operand


def _match_values(name, value):
    # The whole-timestamp rule of _split_operator also applies here, as in
    # Glance: name=2026-01-31T12:00:00Z is a name, not operator '2026-...'.
    operator, operand = _split_operator(value)
    if operator == 'eq':
        return (operand,)
    if operator == 'in':
        return tuple(dict.fromkeys(_in_list(operand)))
    raise exception.Invalid("Unable to filter by unknown operator '%s'."
                            % operator)


def _in_list(text):
    """The values of an ``in:`` list (v2 spec §9.2.1): comma-separated,
    each bare or in double quotes, where ``\\"`` stands for a quote.

    Elements are kept as written otherwise: an empty one (``a,,b``, a
    trailing comma) is the empty string, and a backslash outside quotes is
    an ordinary character.
    """
    values = []
    position = 0
    while True:
        if text.startswith('"', position):
            value, position = _quoted(text, position)
        else:
            end = text.find(',', position)
            if end < 0:
                end = len(text)
            value = text[position:end]
            if re.search(r'(?<!\\)"', value):
                raise exception.Invalid(
                    "Invalid filter value %s. There is no comma before "
                    "opening quotation mark." % text)
            position = end
        values.append(value)
        if position == len(text):
            return values
        position += 1


def _quoted(text, start):
    """(value, position after it) of the quoted element opening at
    ``text[start]``."""
    chars = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if text.startswith('\\"', position):
            chars.append('"')
            position += 2
            continue
        if char == '"':
            position += 1
            if position < len(text) and text[position] != ',':
                raise exception.Invalid(
                    "Invalid filter value %s. There is no comma after "
                    "closing quotation mark." % text)
            return ''.join(chars), position
        chars.append(char)
        position += 1
    raise exception.Invalid("Invalid filter value %s. The quote is not "
                            "closed." % text)


def _time_comparison(name, value):
    operator, operand = _split_operator(value)
    if operator not in TIME_OPERATORS:
        raise exception.Invalid("Unable to filter on a unknown operator.")
    try:
        # Date alone: midnight; no offset: UTC (parse_isotime's default).
        moment = timeutils.parse_isotime(operand)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        moment = moment.astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):
        raise exception.Invalid('Bad "%s" query filter format. Use ISO 8601 '
                                'DateTime notation.' % name)
    # Whole seconds, the precision v2 shows (V7); the catalogue compares
    # them with the attribute truncated to whole seconds as well.
    return operator, moment.replace(microsecond=0)


# Filter parameter → its parser (name, value) → the field's value.
_FILTER_PARSERS = dict(
    [('visibility', _visibility), ('os_hidden', _os_hidden),
     ('protected', _protected), ('size_min', _range_bound),
     ('size_max', _range_bound), ('changes-since', _changes_since)]
    + [(name, _match_values) for name in MATCH_FILTERS]
    + [(name, _exact_string) for name in STRING_FILTERS]
    + [(name, _exact_integer) for name in INTEGER_FILTERS])


def _filters(items):
    """The filter fields of ImageListQuery, every value validated in
    request order."""
    fields = {}
    comparisons = {name: [] for name in TIME_FILTERS}
    properties = {}
    for name, value in items:
        if name in CONTROL_PARAMS:
            continue
        if name in TIME_FILTERS:
            comparisons[name].append(_time_comparison(name, value))
        elif name in _FILTER_PARSERS:
            fields[name] = _FILTER_PARSERS[name](name, value)
        else:
            # Anything else names an additional property, ``tags`` too
            # (V15); a dict keeps each name's first place, last value.
            properties[name] = value
    fields.update((name, tuple(found)) for name, found in comparisons.items())
    fields['properties'] = tuple(properties.items())
    return fields


def _tags(items):
    tags = [value for name, value in items if name == 'tag']
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH:
            # No image can have such a tag (v2 spec §5.5), so it is refused
            # rather than matching nothing; the wording is ours, as Glance
            # does not check tag filters.
            raise exception.Invalid(
                "Invalid value for filter 'tag': a tag has at most %d "
                "characters." % MAX_TAG_LENGTH)
    return tuple(dict.fromkeys(tags))


def _sort_key(key):
    if key not in SORT_KEYS:
        raise exception.Invalid(
            "Invalid sort key: %s. It must be one of the following: %s."
            % (key, ', '.join(SORT_KEYS)))
    return key


def _sort_dir(direction):
    if direction not in SORT_DIRS:
        raise exception.Invalid("Invalid sort direction: %s" % direction)
    return direction


def _sort(items):
    """(key, direction) pairs of the list order (v2 spec §9.4), with the
    created_at and id tie-breakers."""
    keys = [value for name, value in items if name == 'sort_key']
    dirs = [value for name, value in items if name == 'sort_dir']
    new_syntax = [value for name, value in items if name == 'sort']
    if new_syntax:
        if keys or dirs:
            raise exception.Invalid(
                "Old and new sorting syntax cannot be combined")
        # Several sort parameters read as one comma-separated list.
        order = []
        for text in new_syntax:
            for part in text.split(','):
                key, _colon, direction = part.partition(':')
                order.append((_sort_key(key.strip()),
                              _sort_dir(direction.strip()
                                        or DEFAULT_SORT_DIR)))
        given_dirs = [direction for _key, direction in order]
    else:
        keys = [_sort_key(key.strip()) for key in keys] or ['created_at']
        given_dirs = [_sort_dir(direction.strip()) for direction in dirs]
        if len(given_dirs) > 1 and len(given_dirs) != len(keys):
            raise exception.Invalid(
                "Number of sort dirs does not match the number of sort keys")
        if len(given_dirs) == 1:
            order = [(key, given_dirs[0]) for key in keys]
        else:
            order = list(zip(keys, given_dirs or
                             [DEFAULT_SORT_DIR] * len(keys)))
    tie_dir = given_dirs[0] if len(given_dirs) == 1 else DEFAULT_SORT_DIR
    order += [('created_at', tie_dir), ('id', tie_dir)]
    # A key named again adds nothing: its first place decides the order.
    unique = {}
    for key, direction in order:
        unique.setdefault(key, direction)
    return tuple(unique.items())
