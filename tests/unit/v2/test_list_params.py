"""The query of GET /v2/images parsed into an ImageListQuery, and the
first and next links of a page (v2 spec §9.1, v2 spec §9.2,
v2 spec §9.4)."""

import dataclasses
import datetime
import urllib.parse

from oslo_config import cfg
import pytest
import webob

from glance_lite.api.v2 import list_params
from glance_lite.common import exception
from glance_lite import conf  # noqa: F401 (registers the options read)

CONF = cfg.CONF
UTC = datetime.timezone.utc
SORT_KEYS_MESSAGE = ("It must be one of the following: name, status, "
                     "container_format, disk_format, size, id, created_at, "
                     "updated_at.")


def _get(query):
    """req.GET of a list request with this (already encoded) query."""
    return webob.Request.blank('/v2/images?' + query).GET


def _parse(query):
    return list_params.parse(_get(query))


def _refused(query):
    with pytest.raises(exception.Invalid) as caught:
        _parse(query)
    return caught.value.msg


@pytest.fixture
def limits():
    """Lets a test override the page size options."""
    yield CONF
    CONF.clear_override('limit_param_default')
    CONF.clear_override('api_limit_max')


# --- defaults ---------------------------------------------------------------

def test_an_empty_query_asks_for_the_default_page():
    query = _parse('')
    assert query == list_params.ImageListQuery(limit=25)
    assert query.marker is None
    assert query.member_status == 'accepted'
    assert query.visibility is None
    assert query.os_hidden is False
    assert query.protected is None
    assert query.tags == ()
    assert query.name is None
    assert query.created_at == ()
    assert query.properties == ()
    assert query.sort == (('created_at', 'desc'), ('id', 'desc'))
    assert query.query_items == ()


def test_the_query_is_frozen():
    query = _parse('')
    with pytest.raises(AttributeError):
        query.limit = 3


# --- limit and marker -------------------------------------------------------

def test_limit_default_comes_from_limit_param_default(limits):
    limits.set_override('limit_param_default', 7)
    assert _parse('').limit == 7


def test_limit_is_taken_as_given():
    assert _parse('limit=2').limit == 2


def test_limit_is_capped_at_api_limit_max_silently(limits):
    assert _parse('limit=5000').limit == 1000
    limits.set_override('api_limit_max', 50)
    assert _parse('limit=51').limit == 50
    assert _parse('limit=50').limit == 50


def test_limit_zero_asks_for_an_empty_page():
    assert _parse('limit=0').limit == 0


@pytest.mark.parametrize('value', ['a', '1.5', '', '%20', '1e3', '%D9%A3'])
def test_a_limit_that_is_no_integer_is_refused(value):
    assert _refused('limit=' + value) == "limit param must be an integer"


def test_a_negative_limit_is_refused():
    assert _refused('limit=-1') == "limit param must be positive"


def test_a_limit_of_absurdly_many_digits_is_refused_not_crashed():
    assert _refused('limit=' + '9' * 5000) == "limit param must be an integer"


def test_marker_is_carried_unchecked():
    # Existence and visibility are the catalogue's to check (V4, V22).
    assert _parse('marker=abc').marker == 'abc'


def test_a_repeated_single_valued_parameter_counts_with_its_last_value():
    query = _parse('marker=a&limit=3&marker=b&limit=4')
    assert (query.marker, query.limit) == ('b', 4)


def test_every_occurrence_of_a_repeated_parameter_is_validated():
    assert _refused('limit=a&limit=4') == "limit param must be an integer"


# --- member_status, visibility, os_hidden, protected -------------------------

@pytest.mark.parametrize('status', ['accepted', 'pending', 'rejected', 'all'])
def test_member_status_values(status):
    assert _parse('member_status=' + status).member_status == status


@pytest.mark.parametrize('value', ['maybe', 'Accepted', ''])
def test_an_unknown_member_status_is_refused(value):
    assert _refused('member_status=' + value) == "Invalid status: " + value


@pytest.mark.parametrize('visibility',
                         ['public', 'private', 'shared', 'community', 'all'])
def test_visibility_values(visibility):
    assert _parse('visibility=' + visibility).visibility == visibility


@pytest.mark.parametrize('value', ['bogus', 'Public', ''])
def test_an_unknown_visibility_is_refused(value):
    assert (_refused('visibility=' + value)
            == "Invalid visibility value: " + value)


@pytest.mark.parametrize('value, hidden', [
    ('true', True), ('TRUE', True), ('True', True), ('false', False),
    ('FaLsE', False)])
def test_os_hidden_takes_true_and_false_in_any_case(value, hidden):
    assert _parse('os_hidden=' + value).os_hidden is hidden


@pytest.mark.parametrize('value', ['maybe', 'MAYBE', '1', ''])
def test_another_os_hidden_value_is_refused(value):
    assert _refused('os_hidden=' + value) == (
        "Invalid value '%s' for 'os_hidden' filter. Valid values are "
        "'true' or 'false'." % value)


@pytest.mark.parametrize('value, protected', [('true', True),
                                              ('false', False)])
def test_protected_takes_lower_case_true_and_false(value, protected):
    assert _parse('protected=' + value).protected is protected


@pytest.mark.parametrize('value', ['False', 'TRUE', 'yes', '1', ''])
def test_another_protected_value_is_refused(value):
    assert _refused('protected=' + value) == (
        "Invalid value '%s' for 'protected' filter. Valid values are "
        "'true' or 'false'." % value)


# --- tags -------------------------------------------------------------------

def test_every_tag_is_required_in_request_order():
    assert _parse('tag=sniff&tag=snozz&tag=sniff').tags == ('sniff', 'snozz')


def test_a_tag_is_taken_byte_for_byte():
    assert _parse('tag=%20Sniff%20').tags == (' Sniff ',)


def test_a_tag_of_255_characters_is_a_filter():
    tag = '\u00e9' * 255
    query = _parse(urllib.parse.urlencode({'tag': tag}))
    assert query.tags == (tag,)


def test_a_tag_longer_than_255_characters_is_refused():
    assert _refused('tag=' + 'a' * 256) == (
        "Invalid value for filter 'tag': a tag has at most 255 characters.")


def test_tags_plural_is_a_property_filter():
    # V15: not a list of one-character tags.
    query = _parse('tags=xy')
    assert query.tags == ()
    assert query.properties == (('tags', 'xy'),)


# --- name, id, status, container_format, disk_format -------------------------

@pytest.mark.parametrize('name', list_params.MATCH_FILTERS)
def test_a_bare_value_is_an_exact_match(name):
    assert getattr(_parse(name + '=image-1'), name) == ('image-1',)


@pytest.mark.parametrize('name', list_params.MATCH_FILTERS)
def test_in_lists_the_values_allowed(name):
    assert getattr(_parse(name + '=in:a,b'), name) == ('a', 'b')


def test_eq_takes_the_rest_literally():
    assert _parse('name=eq:a:b').name == ('a:b',)
    assert _parse('name=eq:in:x,y').name == ('in:x,y',)
    assert _parse('name=eq:').name == ('',)


def test_in_keeps_colons_of_its_values():
    assert _parse('name=in:a:b,c').name == ('a:b', 'c')


def test_a_bare_value_with_a_colon_is_read_as_an_operator():
    assert _refused('name=a:b') == "Unable to filter by unknown operator 'a'."


@pytest.mark.parametrize('name', list_params.MATCH_FILTERS)
def test_an_unknown_operator_is_refused(name):
    assert (_refused(name + '=gt:x')
            == "Unable to filter by unknown operator 'gt'.")


def test_a_name_that_is_a_whole_timestamp_is_not_split():
    assert _parse('name=2026-01-31T12:00:00Z').name == (
        '2026-01-31T12:00:00Z',)


def test_an_empty_value_matches_the_empty_string():
    assert _parse('status=').status == ('',)


@pytest.mark.parametrize('operand, values', [
    ('image-1,image-2', ('image-1', 'image-2')),
    ('"image-2,image-5"', ('image-2,image-5',)),
    ('"glass, darkly",share me', ('glass, darkly', 'share me')),
    ('a,"b,c",d', ('a', 'b,c', 'd')),
    ('"a\\"b",c', ('a"b', 'c')),
    ('"\\"",x', ('"', 'x')),
    ('a\\"b', ('a\\"b',)),
    ('""', ('',)),
    ('a,,b', ('a', '', 'b')),
    ('a,', ('a', '')),
    ('', ('',)),
    ('a,a,b', ('a', 'b')),
    ('\u00e9t\u00e9,x', ('\u00e9t\u00e9', 'x')),
])
def test_in_list_quoting(operand, values):
    query = _parse(urllib.parse.urlencode({'name': 'in:' + operand}))
    assert query.name == values


@pytest.mark.parametrize('operand, problem', [
    ('"abc', "The quote is not closed."),
    ('a,"b', "The quote is not closed."),
    ('"a\\"', "The quote is not closed."),
    ('"', "The quote is not closed."),
    ('a"b', "There is no comma before opening quotation mark."),
    ('x,a"b"', "There is no comma before opening quotation mark."),
    ('"a"b', "There is no comma after closing quotation mark."),
    ('"a" ,b', "There is no comma after closing quotation mark."),
])
def test_in_list_quote_errors(operand, problem):
    message = _refused(urllib.parse.urlencode({'name': 'in:' + operand}))
    assert message == "Invalid filter value %s. %s" % (operand, problem)


# --- created_at, updated_at -------------------------------------------------

@pytest.mark.parametrize('value, moment', [
    ('2026-01-31T12:00:00Z', datetime.datetime(2026, 1, 31, 12, tzinfo=UTC)),
    ('2026-01-31T07:00:00-05:00',
     datetime.datetime(2026, 1, 31, 12, tzinfo=UTC)),
    ('2026-01-31T14:30:00+02:30',
     datetime.datetime(2026, 1, 31, 12, tzinfo=UTC)),
    ('2026-01-31T12:00:00', datetime.datetime(2026, 1, 31, 12, tzinfo=UTC)),
    ('2026-01-31', datetime.datetime(2026, 1, 31, tzinfo=UTC)),
    ('2026-01-31T12:00:00.999999Z',
     datetime.datetime(2026, 1, 31, 12, tzinfo=UTC)),
])
def test_time_values_are_utc_in_whole_seconds(value, moment):
    query = _parse(urllib.parse.urlencode({'created_at': 'gte:' + value}))
    assert query.created_at == (('gte', moment),)
    [(_operator, parsed)] = query.created_at
    assert parsed.utcoffset() == datetime.timedelta(0)
    assert parsed.microsecond == 0


@pytest.mark.parametrize('operator', list_params.TIME_OPERATORS)
@pytest.mark.parametrize('name', list_params.TIME_FILTERS)
def test_time_operators(name, operator):
    query = _parse('%s=%s:2026-01-31' % (name, operator))
    assert getattr(query, name) == (
        (operator, datetime.datetime(2026, 1, 31, tzinfo=UTC)),)


@pytest.mark.parametrize('value', [
    '2026-01-31T12:00:00Z', '2026-01-31T12:00:00+00:00',
    '2026-01-31T13:00:00+01:00'])
def test_a_whole_timestamp_is_an_eq_comparison(value):
    query = _parse(urllib.parse.urlencode({'created_at': value}))
    assert query.created_at == (
        ('eq', datetime.datetime(2026, 1, 31, 12, tzinfo=UTC)),)


def test_time_comparisons_accumulate():
    query = _parse('updated_at=gte:2026-01-01&updated_at=lt:2026-02-01')
    assert query.updated_at == (
        ('gte', datetime.datetime(2026, 1, 1, tzinfo=UTC)),
        ('lt', datetime.datetime(2026, 2, 1, tzinfo=UTC)))
    assert query.created_at == ()


@pytest.mark.parametrize('value', [
    'invalid_operator:2015-11-19T12:24:02Z', 'after:2026-01-31', 'GT:2026',
    'in:2026-01-31'])
def test_an_unknown_time_operator_is_refused(value):
    assert (_refused('created_at=' + value)
            == "Unable to filter on a unknown operator.")


@pytest.mark.parametrize('name', list_params.TIME_FILTERS)
@pytest.mark.parametrize('value', [
    'lt:invalid_value', 'invalid_value', '', 'eq:', 'gt:2026-13-01',
    'lt:2026-01-31T25:00:00Z', 'gt:0001-01-01T00:00:00%2B01:00'])
def test_a_bad_time_is_refused(name, value):
    assert _refused('%s=%s' % (name, value)) == (
        'Bad "%s" query filter format. Use ISO 8601 DateTime notation.'
        % name)


# --- sizes and other exact filters -----------------------------------------

def test_size_bounds():
    query = _parse('size_min=5&size_max=5')
    assert (query.size_min, query.size_max) == (5, 5)


def test_size_bounds_may_be_negative():
    assert _parse('size_min=-3').size_min == -3


def test_size_bounds_beyond_64_bits_are_clamped():
    query = _parse('size_min=%d&size_max=-%d' % (2 ** 70, 2 ** 70))
    assert query.size_min == list_params.MAX_INT64
    assert query.size_max == list_params.MIN_INT64


@pytest.mark.parametrize('name', ['size_min', 'size_max'])
@pytest.mark.parametrize('value', ['x', '1.5', ''])
def test_a_non_numeric_size_bound_is_refused(name, value):
    assert (_refused('%s=%s' % (name, value))
            == "Unable to filter on a range with a non-numeric value.")


@pytest.mark.parametrize('name', list_params.INTEGER_FILTERS)
def test_integer_filters(name):
    assert getattr(_parse(name + '=512'), name) == 512


@pytest.mark.parametrize('name', list_params.INTEGER_FILTERS)
@pytest.mark.parametrize('value', ['abc', '1.0', '', 'eq:5',
                                   str(2 ** 63)])
def test_a_non_integer_for_an_integer_filter_is_refused(name, value):
    # V8: Glance lets the database fail.
    assert (_refused('%s=%s' % (name, value))
            == "Invalid value '%s' for filter '%s'" % (value, name))


@pytest.mark.parametrize('name', list_params.STRING_FILTERS)
def test_string_filters_are_exact(name):
    assert getattr(_parse(name + '=in:a:b'), name) == 'in:a:b'


@pytest.mark.parametrize('value', ['2000-10-07T10:10:10', 'aaa', ''])
def test_changes_since_is_refused(value):
    assert (_refused('changes-since=' + value)
            == 'The "changes-since" filter is no longer available on v2.')


# --- property filters -------------------------------------------------------

def test_other_parameters_are_property_filters():
    query = _parse('foo=bar&abc=xyz')
    assert query.properties == (('foo', 'bar'), ('abc', 'xyz'))


@pytest.mark.parametrize('name', ['deleted', 'is_public', 'ram_min',
                                  'locations_max', 'os_distro'])
def test_names_without_meaning_of_their_own_are_property_filters(name):
    # V8: x_min / x_max for a name that is no integer column too.
    assert _parse(name + '=1').properties == ((name, '1'),)


def test_a_property_value_is_never_an_operator():
    assert _parse('foo=in:a,b').properties == (('foo', 'in:a,b'),)


def test_a_repeated_property_counts_with_its_last_value():
    query = _parse('foo=1&bar=2&foo=3')
    assert query.properties == (('foo', '3'), ('bar', '2'))


def test_control_parameters_are_no_property_filters():
    query = _parse('limit=1&marker=m&member_status=all&tag=t&sort_key=name'
                   '&sort_dir=asc')
    assert query.properties == ()


# --- sorting ---------------------------------------------------------------

def test_one_sort_key_takes_its_direction_and_the_tie_breakers_too():
    assert _parse('sort_key=name&sort_dir=asc').sort == (
        ('name', 'asc'), ('created_at', 'asc'), ('id', 'asc'))


def test_a_sort_key_without_direction_is_descending():
    assert _parse('sort_key=size').sort == (
        ('size', 'desc'), ('created_at', 'desc'), ('id', 'desc'))


def test_a_sort_direction_alone_orders_by_created_at():
    assert _parse('sort_dir=asc').sort == (('created_at', 'asc'),
                                           ('id', 'asc'))


def test_one_sort_dir_applies_to_every_key():
    assert _parse('sort_key=name&sort_key=size&sort_dir=asc').sort == (
        ('name', 'asc'), ('size', 'asc'), ('created_at', 'asc'),
        ('id', 'asc'))


def test_several_sort_dirs_pair_with_the_keys_and_ties_go_descending():
    query = _parse('sort_key=name&sort_key=size&sort_dir=asc&sort_dir=asc')
    assert query.sort == (('name', 'asc'), ('size', 'asc'),
                          ('created_at', 'desc'), ('id', 'desc'))


def test_a_tie_breaker_already_a_key_keeps_its_place():
    assert _parse('sort_key=id&sort_key=created_at&sort_dir=asc').sort == (
        ('id', 'asc'), ('created_at', 'asc'))
    assert _parse('sort_key=created_at&sort_dir=asc').sort == (
        ('created_at', 'asc'), ('id', 'asc'))


def test_a_repeated_sort_key_keeps_its_first_place():
    query = _parse('sort_key=name&sort_key=name&sort_dir=asc&sort_dir=desc')
    assert query.sort == (('name', 'asc'), ('created_at', 'desc'),
                          ('id', 'desc'))


@pytest.mark.parametrize('query', [
    'sort_key=foo', 'sort_key=foo&sort_dir=asc', 'sort=foo:asc',
    'sort=name,foo'])
def test_an_unknown_sort_key_is_refused(query):
    assert _refused(query) == "Invalid sort key: foo. " + SORT_KEYS_MESSAGE


@pytest.mark.parametrize('name', ['owner', 'min_ram', 'virtual_size',
                                  'NAME', ''])
def test_sort_keys_are_the_listed_attributes_only(name):
    assert (_refused('sort_key=' + name)
            == "Invalid sort key: %s. %s" % (name, SORT_KEYS_MESSAGE))


@pytest.mark.parametrize('query', ['sort_dir=up', 'sort_key=name&sort_dir=up',
                                   'sort=name:up'])
def test_an_unknown_sort_direction_is_refused(query):
    assert _refused(query) == "Invalid sort direction: up"


def test_sort_directions_are_lower_case():
    assert _refused('sort_dir=ASC') == "Invalid sort direction: ASC"


@pytest.mark.parametrize('query', [
    'sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc&sort_dir=asc',
    'sort_key=name&sort_dir=asc&sort_dir=desc',
    'sort_dir=asc&sort_dir=desc'])
def test_sort_dirs_must_be_one_or_as_many_as_the_keys(query):
    assert (_refused(query)
            == "Number of sort dirs does not match the number of sort keys")


def test_the_new_syntax_defaults_each_direction_to_descending():
    assert _parse('sort=name:asc,size').sort == (
        ('name', 'asc'), ('size', 'desc'), ('created_at', 'desc'),
        ('id', 'desc'))


def test_the_new_syntax_with_one_direction_gives_it_to_the_ties():
    assert _parse('sort=name:asc').sort == (
        ('name', 'asc'), ('created_at', 'asc'), ('id', 'asc'))
    assert _parse('sort=name').sort == (
        ('name', 'desc'), ('created_at', 'desc'), ('id', 'desc'))


def test_the_new_syntax_tolerates_blanks():
    assert _parse('sort=%20name%20:%20asc%20,%20size').sort[:2] == (
        ('name', 'asc'), ('size', 'desc'))


def test_several_sort_parameters_read_as_one_list():
    assert _parse('sort=name:asc&sort=size:asc').sort == (
        ('name', 'asc'), ('size', 'asc'), ('created_at', 'desc'),
        ('id', 'desc'))


@pytest.mark.parametrize('query', ['sort=name:asc&sort_key=size',
                                   'sort=name&sort_dir=asc',
                                   'sort_key=size&sort=name'])
def test_old_and_new_syntax_cannot_be_combined(query):
    assert _refused(query) == "Old and new sorting syntax cannot be combined"


# --- query items, first and next links -------------------------------------

def test_query_items_are_every_parameter_in_request_order():
    query = _parse('tag=a&limit=2&tag=b&sort_key=name&marker=m&foo=1')
    assert query.query_items == (
        ('tag', 'a'), ('limit', '2'), ('tag', 'b'), ('sort_key', 'name'),
        ('marker', 'm'), ('foo', '1'))


def test_first_without_parameters_is_the_bare_path():
    assert list_params.first_link(()) == '/v2/images'


def test_first_with_only_a_marker_is_the_bare_path():
    assert list_params.first_link(_parse('marker=m').query_items) == (
        '/v2/images')


def test_first_drops_every_marker_and_keeps_the_rest_in_order():
    items = _parse('limit=2&marker=m&tag=a&marker=n&tag=b').query_items
    assert list_params.first_link(items) == '/v2/images?limit=2&tag=a&tag=b'


def test_next_appends_the_marker_when_there_was_none():
    items = _parse('limit=2&sort_key=name&sort_dir=asc').query_items
    assert list_params.next_link(items, 'id-b') == (
        '/v2/images?limit=2&sort_key=name&sort_dir=asc&marker=id-b')


def test_next_replaces_the_marker_in_its_place():
    items = _parse('limit=2&marker=old&tag=a&marker=older').query_items
    assert list_params.next_link(items, 'new') == (
        '/v2/images?limit=2&marker=new&tag=a')


def test_next_of_an_empty_query_is_just_the_marker():
    assert list_params.next_link((), 'x') == '/v2/images?marker=x'


def test_links_keep_repeated_parameters_in_request_order():
    # V3: Glance keeps only the last of each.
    items = _parse('tag=b&sort_key=name&tag=a&sort_key=size').query_items
    assert list_params.first_link(items) == (
        '/v2/images?tag=b&sort_key=name&tag=a&sort_key=size')
    assert list_params.next_link(items, 'z') == (
        '/v2/images?tag=b&sort_key=name&tag=a&sort_key=size&marker=z')


def test_links_are_url_encoded_as_utf_8():
    items = _parse(urllib.parse.urlencode([
        ('name', 'in:"glass, darkly",share me'),
        ('os_distro', '\u00e9t\u00e9'),
        ('tag', '\u2603&=?')])).query_items
    assert list_params.first_link(items) == (
        '/v2/images?name=in%3A%22glass%2C+darkly%22%2Cshare+me'
        '&os_distro=%C3%A9t%C3%A9&tag=%E2%98%83%26%3D%3F')


def test_following_next_parses_the_same_query_after_the_marker():
    query = _parse(urllib.parse.urlencode([
        ('limit', '2'), ('tag', '\u2603'), ('tag', 'b'),
        ('name', 'in:"a,b",c'),
        ('created_at', 'gte:2026-01-31T07:00:00-05:00'),
        ('sort', 'name:asc,size'), ('foo', 'x y')]))
    following = list_params.parse(
        webob.Request.blank(list_params.next_link(query.query_items,
                                                  'id-2')).GET)
    assert following.marker == 'id-2'
    assert following == dataclasses.replace(
        query, marker='id-2',
        query_items=query.query_items + (('marker', 'id-2'),))
