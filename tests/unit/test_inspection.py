"""The format inspection of an upload as the store reads it
(glance_lite.image.inspection; v2 spec §12.2): a mismatch the data's
header already shows stops the stream at once, and the upload reader's own
errors stay what they are."""

from oslo_config import cfg
import pytest

from glance_lite.common import exception
from glance_lite import conf
from glance_lite.image import inspection
from tests import disk_images

CONF = cfg.CONF
CHUNK = 64 * 1024


@pytest.fixture(autouse=True)
def config():
    conf.parse_args([], default_config_files=[])
    yield
    CONF.reset()


class Source:
    """An upload reader of ``chunks`` that counts the reads."""

    def __init__(self, chunks, error=None):
        self._chunks = list(chunks)
        self._error = error
        self.reads = 0

    def read(self, size):
        self.reads += 1
        if not self._chunks:
            if self._error is not None:
                raise self._error
            return b''
        return self._chunks.pop(0)


def read_all(reader):
    while reader.read(CHUNK):
        pass


def chunks_of(image):
    return [image[i:i + CHUNK] for i in range(0, len(image), CHUNK)]


@pytest.mark.parametrize('disk_format, image, found', [
    ('qcow2', b'A' * CHUNK * 100, 'raw'),
    ('vhd', disk_images.qcow2(1024 ** 3, length=100 * CHUNK), 'qcow2'),
])
def test_a_mismatch_stops_the_stream_at_its_first_chunk(
        disk_format, image, found):
    source = Source(chunks_of(image))
    reader = inspection.inspect(
        {'disk_format': disk_format, 'container_format': 'bare'}, source)
    with pytest.raises(exception.ImageFormatRefused) as refused:
        read_all(reader)
    assert source.reads == 1
    assert str(refused.value) == (
        'Image disk_format %s does not match stream data %s'
        % (disk_format, found))


def test_an_allowed_mismatch_reads_everything():
    CONF.set_override('require_image_format_match', False,
                      group='image_format')
    source = Source([b'A' * CHUNK] * 10)
    reader = inspection.inspect(
        {'disk_format': 'qcow2', 'container_format': 'bare'}, source)
    read_all(reader)
    assert source.reads == 11
    assert reader.verdict(10 * CHUNK) is None


def test_errors_of_the_upload_reader_pass_through():
    source = Source([b'A' * CHUNK], error=exception.ClientDisconnected())
    reader = inspection.inspect(
        {'disk_format': 'raw', 'container_format': 'bare'}, source)
    with pytest.raises(exception.ClientDisconnected):
        read_all(reader)


def test_only_bare_containers_are_inspected():
    source = Source([b'A'])
    assert inspection.inspect(
        {'disk_format': 'qcow2', 'container_format': 'ovf'}, source) is None


def test_raw_data_is_sized_by_all_of_its_bytes():
    # The inspectors stop reading once the header regions are judged;
    # the virtual size of raw data is still all of it.
    source = Source([b'A' * CHUNK] * 10)
    reader = inspection.inspect(
        {'disk_format': 'raw', 'container_format': 'bare'}, source)
    read_all(reader)
    assert reader.verdict(10 * CHUNK) == 10 * CHUNK


def test_a_header_found_early_still_gives_its_virtual_size():
    image = disk_images.qcow2(5 * 1024 ** 3, length=10 * CHUNK)
    source = Source(chunks_of(image))
    reader = inspection.inspect(
        {'disk_format': 'qcow2', 'container_format': 'bare'}, source)
    read_all(reader)
    assert reader.verdict(len(image)) == 5 * 1024 ** 3
