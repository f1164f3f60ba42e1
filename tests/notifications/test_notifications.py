"""Notifications on the real RabbitMQ (spec §21.4, scenarios 156-164):
every event of a reserve/upload/update/download/delete flow, in order,
with its fields, read from the broker by a consumer of the test's own;
and requests answering as usual, and promptly, with the broker cut."""

import time

import pytest
import requests

from tests.functional.images_support import FIVE_KB
from tests.functional.images_support import FIVE_KB_MD5
from tests.notifications import broker
from tests import relay

FIGURES = 'glance_lite_figures'
# The keys of an image event's payload: §5.4's, and no other.
IMAGE_KEYS = {'id', 'name', 'status', 'size', 'virtual_size', 'disk_format',
              'container_format', 'checksum', 'min_disk', 'min_ram',
              'is_public', 'protected', 'deleted', 'owner', 'created_at',
              'updated_at', 'deleted_at', 'properties'}
SEND_KEYS = {'bytes_sent', 'image_id', 'owner_id', 'receiver_tenant_id',
             'receiver_user_id', 'destination_ip'}
FORMATS = {'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'bare'}
OCTETS = {'Content-Type': 'application/octet-stream'}
FORBIDDEN_TEXT = ('location', 'direct_url', '://')


@pytest.fixture
def consumer():
    consumer = broker.Consumer()
    yield consumer
    consumer.close()


def _api(make_api, consumer, url=None, **default):
    config = consumer.config(url)
    config['DEFAULT'].update(default)
    return make_api(config)


def _reserve(srv, name='notified'):
    answer = requests.post(srv.url + '/v1/images',
                           headers=dict(FORMATS, **{'x-image-meta-name':
                                                    name}))
    assert answer.status_code == 201, answer.text
    return answer.json()['image']['id']


def _assert_clean(srv, messages):
    """Scenario 162: no payload names a location, a URI or the store."""
    for message in messages:
        text = repr(message['payload'])
        for forbidden in FORBIDDEN_TEXT + (srv.datadir, srv.state_path):
            assert forbidden not in text, (forbidden, message)


def _image_event(message, event_type, image_id, status):
    assert message['event_type'] == event_type, message
    assert message['priority'] == 'INFO'
    assert message['publisher_id'] == 'image.localhost'
    payload = message['payload']
    assert set(payload) == IMAGE_KEYS
    assert payload['id'] == image_id
    assert payload['status'] == status, (event_type, payload)
    return payload


def test_reserve_upload_update_download_delete_flow_in_order(
        make_api, consumer):
    srv = _api(make_api, consumer, delayed_delete='true')
    messages = []

    # 156: reserve.
    image_id = _reserve(srv)
    routing_key, envelope, create = consumer.get()
    assert routing_key == consumer.topic + '.info'
    assert envelope['oslo.version'] == '2.0'
    assert not [key for key in create if key.startswith('_context_')
                and key != '_context_request_id']
    payload = _image_event(create, 'image.create', image_id, 'queued')
    assert payload['name'] == 'notified'
    assert payload['size'] == 0 and payload['checksum'] is None
    assert payload['deleted'] is False and payload['deleted_at'] is None
    assert payload['owner'] is None and payload['properties'] == {}
    assert len(create['message_id']) == 36
    time.strptime(create['timestamp'].split('.')[0], '%Y-%m-%d %H:%M:%S')
    messages.append(create)

    # 157: upload to it.
    answer = requests.put(srv.url + '/v1/images/' + image_id, data=FIVE_KB,
                          headers=OCTETS)
    assert answer.status_code == 200, answer.text
    prepare, upload, activate, update = consumer.events(4)
    _image_event(prepare, 'image.prepare', image_id, 'queued')
    uploaded = _image_event(upload, 'image.upload', image_id, 'saving')
    assert uploaded['size'] == 5120 and uploaded['checksum'] == FIVE_KB_MD5
    activated = _image_event(activate, 'image.activate', image_id, 'active')
    assert activated['size'] == 5120
    assert activated['checksum'] == FIVE_KB_MD5
    _image_event(update, 'image.update', image_id, 'active')
    # The PUT's own image.update follows the activation's (spec §21.2).
    _image_event(consumer.get()[2], 'image.update', image_id, 'active')
    messages += [prepare, upload, activate, update]

    # 158: metadata update.
    answer = requests.put(srv.url + '/v1/images/' + image_id,
                          headers={'x-image-meta-property-color': 'blue'})
    assert answer.status_code == 200, answer.text
    update = consumer.get()[2]
    assert _image_event(update, 'image.update', image_id, 'active')[
        'properties'] == {'color': 'blue'}
    messages.append(update)

    # HEAD and lists send nothing.
    assert requests.head(srv.url + '/v1/images/' + image_id).ok
    assert requests.get(srv.url + '/v1/images/detail').ok
    consumer.assert_no_more()

    # 159: download, after the body went out.
    answer = requests.get(srv.url + '/v1/images/' + image_id)
    assert answer.content == FIVE_KB
    send = consumer.get()[2]
    assert send['event_type'] == 'image.send'
    assert send['priority'] == 'INFO'
    assert send['payload'] == {
        'bytes_sent': 5120, 'image_id': image_id, 'owner_id': None,
        'receiver_tenant_id': None, 'receiver_user_id': None,
        'destination_ip': '127.0.0.1'}
    messages.append(send)

    # 161: delete with delayed_delete.
    assert requests.delete(srv.url + '/v1/images/' + image_id).ok
    delete = consumer.get()[2]
    deleted = _image_event(delete, 'image.delete', image_id,
                           'pending_delete')
    assert deleted['deleted'] is True and deleted['deleted_at']
    messages.append(delete)
    consumer.assert_no_more()
    _assert_clean(srv, messages)


def test_failed_upload_sends_one_upload_error_naming_the_image(
        make_api, consumer):
    """Scenario 160: a wrong checksum."""
    srv = _api(make_api, consumer)
    headers = dict(FORMATS, **OCTETS)
    headers.update({'x-image-meta-name': 'bad',
                    'x-image-meta-checksum': '0' * 32})
    answer = requests.post(srv.url + '/v1/images', data=FIVE_KB,
                           headers=headers)
    assert answer.status_code == 400
    create, prepare, error = consumer.events(3)
    image_id = create['payload']['id']
    _image_event(create, 'image.create', image_id, 'queued')
    _image_event(prepare, 'image.prepare', image_id, 'queued')
    assert error['event_type'] == 'image.upload'
    assert error['priority'] == 'ERROR'
    assert isinstance(error['payload'], str)
    assert image_id in error['payload']
    assert 'did not match' in error['payload']
    consumer.assert_no_more()
    _assert_clean(srv, [create, prepare, error])


def test_declared_empty_image_and_immediate_delete(make_api, consumer):
    """POST declaring size 0: one image.create, already active; DELETE
    without delayed_delete: image.delete, deleted."""
    srv = _api(make_api, consumer)
    answer = requests.post(srv.url + '/v1/images', headers=dict(
        FORMATS, **{'x-image-meta-name': 'empty', 'x-image-meta-size': '0'}))
    assert answer.status_code == 201
    image_id = answer.json()['image']['id']
    _image_event(consumer.get()[2], 'image.create', image_id, 'active')
    assert requests.delete(srv.url + '/v1/images/' + image_id).ok
    deleted = _image_event(consumer.get()[2], 'image.delete', image_id,
                           'deleted')
    assert deleted['deleted'] is True
    consumer.assert_no_more()


@pytest.mark.parametrize('disabled, expected', [
    ('image.send', ['image.create', 'image.prepare', 'image.upload',
                    'image.activate', 'image.update', 'image.update']),
    ('image', []),
])
def test_disabled_notifications_are_not_sent(make_api, consumer, disabled,
                                             expected):
    """Scenario 164."""
    srv = _api(make_api, consumer, disabled_notifications=disabled)
    image_id = _reserve(srv)
    assert requests.put(srv.url + '/v1/images/' + image_id, data=FIVE_KB,
                        headers=OCTETS).ok
    assert requests.get(srv.url + '/v1/images/' + image_id).content == (
        FIVE_KB)
    got = [message['event_type'] for message in consumer.events(
        len(expected))]
    assert got == expected
    consumer.assert_no_more()


def _timed(call):
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def test_requests_answer_promptly_with_the_broker_cut(make_api, consumer,
                                                      record_property):
    """Scenario 163: the API's connection to RabbitMQ goes through a relay
    that is cut; uploads, updates, downloads and deletes still answer as
    usual, and no slower than with the broker there."""
    link = relay.TcpRelay(*broker.HOST_PORT)
    link.start()
    srv = _api(make_api, consumer,
               url=broker.transport_url(port=link.port))
    _reserve(srv, 'before-cut')
    assert consumer.get()[2]['event_type'] == 'image.create'

    def flow():
        image_id = _reserve(srv, 'cut')
        timings = {}
        for name, call in (
                ('upload', lambda: requests.put(
                    srv.url + '/v1/images/' + image_id, data=FIVE_KB,
                    headers=OCTETS)),
                ('update', lambda: requests.put(
                    srv.url + '/v1/images/' + image_id,
                    headers={'x-image-meta-property-a': 'b'})),
                ('head', lambda: requests.head(
                    srv.url + '/v1/images/' + image_id)),
                ('download', lambda: requests.get(
                    srv.url + '/v1/images/' + image_id)),
                ('delete', lambda: requests.delete(
                    srv.url + '/v1/images/' + image_id))):
            answer, seconds = _timed(call)
            assert answer.status_code == 200, (name, answer.text)
            timings[name] = seconds
        return timings

    connected = flow()
    # create, prepare, upload, activate, update, update, update, send,
    # delete: all delivered before the cut.
    assert consumer.events(9)[-1]['event_type'] == 'image.delete'
    link.cut()
    cut = [flow() for _ in range(3)]
    slowest = {name: max(run[name] for run in cut) for name in connected}
    record_property(FIGURES, 'broker cut, slowest of 3 runs (s): %s; '
                    'broker up (s): %s' % (
                        {k: round(v, 3) for k, v in slowest.items()},
                        {k: round(v, 3) for k, v in connected.items()}))
    for name, seconds in slowest.items():
        # Loaded machine: a generous bound, far below any broker timeout.
        assert seconds < 2.0, (name, seconds)
    # Nothing reached the broker once it was cut.
    consumer.assert_no_more()
    # The API stops promptly: its sender gets a bounded time to flush.
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 10
