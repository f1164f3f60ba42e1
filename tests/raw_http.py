"""Raw-socket helpers of the framing tests (tests/unit, tests/security)."""

import contextlib
import threading


@contextlib.contextmanager
def sending_forever(sock, block=b'x' * 65536):
    """Send ``block`` over ``sock`` again and again in a thread, as a
    client uploading a huge body does, until the block ends (or the
    server stops reading)."""
    stop = threading.Event()

    def send():
        try:
            while not stop.is_set():
                sock.sendall(block)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        yield
    finally:
        stop.set()
        sender.join(30)
