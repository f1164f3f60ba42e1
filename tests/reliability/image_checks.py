"""What a careful client checks after traffic against a real server: the
bytes it gets back, and the file store holding exactly the live images'
bytes. Shared by the soak, state machine and database outage tests."""

import hashlib

TIMEOUT = 60


def download(session, base_url, image_id):
    """GET an image's data, streamed; returns (status, md5 hex of the body
    or None when it is not a 200, bytes received)."""
    response = session.get('%s/v1/images/%s' % (base_url, image_id),
                           stream=True, timeout=TIMEOUT)
    with response:
        if response.status_code != 200:
            response.content  # read the error body: the session is reused
            return response.status_code, None, 0
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        for chunk in response.iter_content(65536):
            digest.update(chunk)
            received += len(chunk)
        return 200, digest.hexdigest(), received


def store_difference(server, live_sizes):
    """How the file store differs from ``live_sizes`` ({image id: size} of
    every image that should have data): a list of readable problems,
    empty when the store holds exactly those files with those sizes."""
    stored = server.stored_sizes()
    problems = []
    for name, size in sorted(stored.items()):
        if name not in live_sizes:
            problems.append('orphaned file %s (%d bytes)' % (name, size))
        elif size != live_sizes[name]:
            problems.append('file %s has %d bytes, expected %d'
                            % (name, size, live_sizes[name]))
    for image_id in sorted(set(live_sizes) - set(stored)):
        problems.append('no data for live image %s' % image_id)
    return problems
