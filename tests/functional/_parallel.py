"""Start and stop several glance-lite-api processes at once, to keep the
modules that need more than one configuration fast."""

import threading

from tests import server as test_server


def _run_all(functions):
    errors = []

    def _call(function):
        try:
            function()
        except Exception as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    threads = [threading.Thread(target=_call, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def start(*configs):
    """Running servers, one per config dict, started concurrently."""
    servers = [test_server.Server(config) for config in configs]
    try:
        _run_all([srv.start for srv in servers])
    except Exception:
        stop(*servers)
        raise
    return servers


def stop(*servers):
    _run_all([srv.stop for srv in servers])
