"""Image data in a request body, as both APIs read it: framed by
``Content-Length`` or by a transfer coding (chunked), and handed to the
domain as a bounded reader (``glance_lite.image.data``)."""

from oslo_config import cfg

from glance_lite.image import data as image_data

CONF = cfg.CONF

# Transfer codings that frame a body of their own (RFC 9112 section 6.1):
# the body is read until the server reports its end.
BODY_TRANSFER_ENCODINGS = ('chunked', 'compress', 'deflate', 'gzip',
                           'identity')


def _transfer_coded(req):
    encoding = req.headers.get('Transfer-Encoding', '').strip().lower()
    return encoding in BODY_TRANSFER_ENCODINGS


def has_body(req):
    """A request carries image data when it is chunked or has a non-zero
    Content-Length (spec §6.3)."""
    return _transfer_coded(req) or bool(req.content_length)


def reader(req):
    """The request body as a reader the stores read from, capped at
    image_size_cap."""
    length = None if _transfer_coded(req) else req.content_length
    return image_data.RequestBodyReader(req.environ['wsgi.input'], length,
                                        CONF.image_size_cap)
