"""A consumer of the notifications a test's API sends, on the real
RabbitMQ (127.0.0.1:5672, guest/guest; GLANCE_LITE_TEST_RABBIT_URL
overrides it), read with kombu as any consumer of Glance's events would.

Each consumer has an exchange and a topic of its own, so tests running at
once never see each other's events; its queue is exclusive (gone with the
connection) and its exchange is deleted when it closes.
"""

import json
import os
import queue
import uuid

import kombu

RABBIT_URL = (os.environ.get('GLANCE_LITE_TEST_RABBIT_URL') or
              'amqp://guest:guest@127.0.0.1:5672//')
HOST_PORT = ('127.0.0.1', 5672)


def transport_url(host='127.0.0.1', port=5672):
    """The ``transport_url`` of an API sending to ``host:port``."""
    return 'rabbit://guest:guest@%s:%d/' % (host, port)


class Consumer:
    """The events published to its own exchange and topic.

    ``config(url)`` is the API configuration that sends there.
    """

    def __init__(self):
        suffix = uuid.uuid4().hex[:12]
        self.exchange_name = 'glance-lite-test-%s' % suffix
        self.topic = 'notifications-%s' % suffix
        self._connection = kombu.Connection(RABBIT_URL)
        # As oslo.messaging's rabbit driver declares it (amqp_durable_queues
        # and amqp_auto_delete at their defaults), so both agree.
        self._exchange = kombu.Exchange(self.exchange_name, type='topic',
                                        durable=False, auto_delete=False)
        self._queue = kombu.Queue('glance-lite-test-%s' % suffix,
                                  exchange=self._exchange,
                                  routing_key=self.topic + '.*',
                                  exclusive=True, auto_delete=True)
        self._received = queue.Queue()
        self._consumer = kombu.Consumer(
            self._connection, queues=[self._queue],
            callbacks=[self._on_message], accept=['json'])
        self._consumer.consume()

    def config(self, url=None):
        return {'DEFAULT': {'control_exchange': self.exchange_name},
                'oslo_messaging_notifications': {
                    'driver': 'messagingv2', 'topics': self.topic,
                    'transport_url': url or transport_url()}}

    def _on_message(self, body, message):
        message.ack()
        self._received.put((message.delivery_info['routing_key'], body))

    def get(self, timeout=10):
        """The next message: (routing key, the oslo.message envelope,
        the message inside it)."""
        deadline = timeout
        while True:
            try:
                routing_key, body = self._received.get_nowait()
                envelope = body if isinstance(body, dict) else json.loads(
                    body)
                return routing_key, envelope, json.loads(
                    envelope['oslo.message'])
            except queue.Empty:
                pass
            if deadline <= 0:
                raise AssertionError('no notification within %ss' % timeout)
            try:
                self._connection.drain_events(timeout=0.5)
            except TimeoutError:
                pass
            deadline -= 0.5

    def events(self, count, timeout=10):
        """The next ``count`` messages (the inner message of each)."""
        return [self.get(timeout)[2] for _ in range(count)]

    def assert_no_more(self, wait=1.5):
        """Nothing else arrives within ``wait`` seconds."""
        try:
            extra = self.get(timeout=wait)
        except AssertionError:
            return
        raise AssertionError('unexpected notification: %r' % (extra,))

    def close(self):
        try:
            self._exchange(self._connection.default_channel).delete()
        finally:
            self._connection.release()
