"""What a download reports as sent when the server takes the image file
through its file wrapper (api/sendfile.py)."""

import io

from glance_lite.api import sendfile


class Wrapper:
    """A server's wsgi.file_wrapper that keeps what it was given."""

    def __init__(self, filelike, block_size):
        self.filelike = filelike

    def close(self):
        self.filelike.close()


def body_of(tmp_path, data):
    path = tmp_path / 'image'
    path.write_bytes(data)
    reported = []
    environ = {'wsgi.file_wrapper': Wrapper}
    wrapped = sendfile.file_body(environ, open(path, 'rb'), len(data),
                                 reported.append)
    return wrapped, reported


def test_a_file_read_to_its_end_reports_every_byte(tmp_path):
    wrapped, reported = body_of(tmp_path, b'x' * 1000)
    while wrapped.filelike.read(300):
        pass
    wrapped.close()
    assert reported == [1000]


def test_a_file_read_in_part_reports_what_was_read(tmp_path):
    wrapped, reported = body_of(tmp_path, b'x' * 1000)
    wrapped.filelike.read(300)
    wrapped.close()
    assert reported == [300]


def test_a_file_sent_by_its_descriptor_reports_the_whole_size(tmp_path):
    # uWSGI and mod_wsgi sendfile from the descriptor at their own offset
    # and never move the file's position.
    wrapped, reported = body_of(tmp_path, b'x' * 1000)
    assert wrapped.filelike.fileno() >= 0
    wrapped.close()
    assert reported == [1000]


def test_without_a_wrapper_the_file_is_iterated_and_closed(tmp_path):
    f = io.BytesIO(b'y' * (sendfile.BLOCK_SIZE + 5))
    reported = []
    body = sendfile.file_body({}, f, sendfile.BLOCK_SIZE + 5,
                              reported.append)
    assert b''.join(body) == b'y' * (sendfile.BLOCK_SIZE + 5)
    body.close()
    assert reported == [sendfile.BLOCK_SIZE + 5]
    assert f.closed
