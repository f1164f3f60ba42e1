"""The notification sender's queue, the payloads, disabled_notifications
and the download reporter (spec §21). The broker itself is tested for
real in tests/notifications; here a recording notifier stands in for
oslo.messaging's, so the queue's limits can be reached on purpose."""

import datetime
import threading
import time

from oslo_config import cfg
import pytest

from glance_lite.api import sendfile
from glance_lite import conf
from glance_lite.image import notifications

CONF = cfg.CONF
IMAGE = {'id': 'a3b8d1b6-0f1a-4c2e-9d7e-5f6a7b8c9d0e', 'name': 'cirros',
         'status': 'active', 'size': 5120, 'virtual_size': None,
         'disk_format': 'raw', 'container_format': 'bare',
         'checksum': 'c2e5db72bd7fd153f53ede5da5a06de3', 'min_disk': 0,
         'min_ram': 0, 'is_public': False, 'protected': False,
         'deleted': False, 'owner': 'project-a',
         'created_at': datetime.datetime(2026, 1, 2, 3, 4, 5, 6),
         'updated_at': datetime.datetime(2026, 1, 2, 3, 4, 5, 600000),
         'deleted_at': None, 'properties': {'color': 'blue'},
         'locations': [{'url': 'file:///var/lib/images/x', 'metadata': {},
                        'status': 'active'}]}


class RecordingNotifier:
    """Records what it is asked to send; blocks while ``hold`` is clear
    (a broker that does not take the message)."""

    def __init__(self):
        self.sent = []
        self.hold = threading.Event()
        self.hold.set()
        # Set once the sender has taken an event and is sending it.
        self.sending = threading.Event()

    def _send(self, priority, ctxt, event_type, payload):
        self.sending.set()
        self.hold.wait()
        self.sent.append((priority, event_type, payload, ctxt))

    def info(self, ctxt, event_type, payload):
        self._send('INFO', ctxt, event_type, payload)

    def error(self, ctxt, event_type, payload):
        self._send('ERROR', ctxt, event_type, payload)


def _wait_for(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.fixture
def notifier():
    conf.parse_args([], default_config_files=[])
    recording = RecordingNotifier()
    notifications.start(recording)
    yield recording
    recording.hold.set()
    notifications.stop()
    CONF.reset()
    CONF.clear_override('disabled_notifications')


def test_events_are_sent_in_order_from_another_thread(notifier):
    for event_type in ('image.create', 'image.prepare', 'image.upload'):
        notifications.image_event(event_type, IMAGE)
    _wait_for(lambda: len(notifier.sent) == 3)
    assert [sent[1] for sent in notifier.sent] == [
        'image.create', 'image.prepare', 'image.upload']


def test_a_broker_that_does_not_answer_never_blocks_the_caller(notifier):
    notifier.hold.clear()
    started = time.monotonic()
    for _ in range(CONF.notification_queue_size + 50):
        notifications.image_event('image.update', IMAGE)
    assert time.monotonic() - started < 2
    notifier.hold.set()
    assert notifications._sender.flush(10)
    # One was being sent, queue_size waited; the rest were dropped.
    assert len(notifier.sent) == CONF.notification_queue_size + 1


def test_a_full_queue_drops_the_event_with_a_warning(notifier, caplog):
    CONF.set_override('notification_queue_size', 1)
    notifications.start(notifier)
    notifier.hold.clear()
    notifications.image_event('image.update', IMAGE)
    # The sender holds the first event (the broker does not take it): the
    # second fills the queue of one, the third finds it full.
    assert notifier.sending.wait(5)
    notifications.image_event('image.update', IMAGE)
    notifications.image_event('image.delete', IMAGE)
    assert any('image.delete' in r.getMessage() and IMAGE['id'] in
               r.getMessage() and 'dropped' in r.getMessage()
               for r in caplog.records)
    CONF.clear_override('notification_queue_size')


def test_flush_gives_up_after_its_timeout(notifier):
    notifier.hold.clear()
    notifications.image_event('image.update', IMAGE)
    started = time.monotonic()
    assert notifications._sender.flush(0.3) is False
    assert 0.25 < time.monotonic() - started < 2
    notifier.hold.set()
    assert notifications._sender.flush(5) is True


def test_a_failing_send_does_not_stop_the_sender(notifier):
    calls = []

    def failing(ctxt, event_type, payload):
        calls.append(event_type)
        if len(calls) == 1:
            raise ConnectionError('broker gone')
        notifier.sent.append(('INFO', event_type, payload, ctxt))

    notifier.info = failing
    notifications.image_event('image.create', IMAGE)
    notifications.image_event('image.update', IMAGE)
    _wait_for(lambda: len(notifier.sent) == 1)
    assert notifier.sent[0][1] == 'image.update'


def test_image_payload_has_exactly_the_v1_keys_and_no_location():
    payload = notifications.image_payload(IMAGE)
    assert set(payload) == set(notifications.IMAGE_FIELDS) | {'properties'}
    assert 'locations' not in payload and '://' not in repr(payload)
    assert payload['created_at'] == '2026-01-02T03:04:05.000006'
    assert payload['updated_at'] == '2026-01-02T03:04:05.600000'
    assert payload['deleted_at'] is None
    assert payload['properties'] == {'color': 'blue'}
    assert notifications.image_payload(dict(IMAGE, size=None))['size'] == 0


@pytest.mark.parametrize('disabled, sent', [
    ([], ['image.create', 'image.send']),
    (['image.send'], ['image.create']),
    (['image'], []),
    (['image.sen'], ['image.create', 'image.send']),
])
def test_disabled_notifications_by_type_or_group(notifier, disabled, sent):
    CONF.set_override('disabled_notifications', disabled)
    notifications.image_event('image.create', IMAGE)
    reporter = notifications.download_reporter(None, IMAGE, 5120,
                                               '127.0.0.1')
    if reporter is not None:
        reporter(5120)
    assert notifications._sender.flush(5)
    assert [s[1] for s in notifier.sent] == sent


def test_no_driver_means_nothing_is_queued_or_built():
    conf.parse_args([], default_config_files=[])
    try:
        assert notifications.start() is None
        assert notifications.enabled('image.create') is False
        assert notifications.download_reporter(None, IMAGE, 1, 'x') is None
        notifications.image_event('image.create', IMAGE)  # no error
    finally:
        notifications.stop()
        CONF.reset()


def test_upload_error_names_the_image_and_the_reason(notifier):
    from glance_lite.common import exception
    notifications.upload_failed(IMAGE['id'], exception.Invalid('bad sum'))
    notifications.upload_failed(IMAGE['id'], RuntimeError('/var/lib/x'))
    assert notifications._sender.flush(5)
    (p1, t1, text1, _), (p2, t2, text2, _) = notifier.sent
    assert (p1, t1, p2, t2) == ('ERROR', 'image.upload', 'ERROR',
                                'image.upload')
    assert text1 == 'Failed to upload image %s: bad sum' % IMAGE['id']
    # Nothing of an unexpected error's own text (a store's path).
    assert text2 == 'Failed to upload image %s' % IMAGE['id']


class _Caller:
    project_id = 'project-b'
    user_id = 'user-b'


@pytest.mark.parametrize('bytes_sent, priority', [(5120, 'INFO'),
                                                  (1000, 'ERROR')])
def test_download_reporter_payload(notifier, bytes_sent, priority):
    notifications.download_reporter(_Caller(), IMAGE, 5120, '10.0.0.9')(
        bytes_sent)
    assert notifications._sender.flush(5)
    ((sent_priority, event_type, payload, _ctxt),) = notifier.sent
    assert (sent_priority, event_type) == (priority, 'image.send')
    assert payload == {'bytes_sent': bytes_sent, 'image_id': IMAGE['id'],
                       'owner_id': 'project-a',
                       'receiver_tenant_id': 'project-b',
                       'receiver_user_id': 'user-b',
                       'destination_ip': '10.0.0.9'}


def test_counted_body_reports_what_the_server_took():
    reported = []
    body = sendfile.CountedBody(iter([b'abc', b'de', b'f']), reported.append)
    chunks = iter(body)
    assert next(chunks) + next(chunks) == b'abcde'
    body.close()  # the client went away before the last chunk
    body.close()
    assert reported == [5]


def test_image_file_reports_the_position_sendfile_reached(tmp_path):
    path = tmp_path / 'data'
    path.write_bytes(b'x' * 100)
    reported = []
    with open(path, 'rb') as f:
        image_file = sendfile.ImageFile(f, 100)
        image_file.on_close(lambda: reported.append(image_file.sent))
        image_file.read(10)
        image_file.seek(60)  # socket.sendfile moves it past what it sent
        image_file.close()
    assert reported == [60]
