"""Helpers of the attack tests: a recording HTTP server that can stand
for a remote image source, a redirector or an internal target, and raw
requests for what ``requests`` refuses to send or read."""

from tests.functional import images_support


def image_headers(**extra):
    headers = {'x-image-meta-disk_format': 'raw',
               'x-image-meta-container_format': 'bare',
               'x-image-meta-name': 'attack'}
    headers.update(extra)
    return headers


# The functional tests' remote source, which also records requests and
# redirects: it stands for sources, redirectors and internal targets.
RecordingServer = images_support.HttpSource
new_id = images_support.new_id
# A hand-made request over a raw socket (answer read until the server
# closes), and the status code of a raw answer.
send_raw = images_support.send_raw
raw_status = images_support.raw_status
