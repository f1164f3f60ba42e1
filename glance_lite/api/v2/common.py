"""What every v2 controller does the same way: the caller's context, JSON
bodies, and looking an image up by v2's rules (v2 spec §4, §8)."""

from oslo_config import cfg

from glance_lite.api import policy
from glance_lite.api.v2 import bodies
from glance_lite.common import exception
from glance_lite.image import access

CONF = cfg.CONF


def context_of(req):
    return req.environ['glance_lite.context']


def json_body(req):
    """The request's JSON body (an object or an array), read up to
    max_json_body_size.

    :raises Invalid: no body, not JSON, or a JSON scalar (v2 spec §3).
    :raises LimitExceeded: the body is larger than allowed.
    """
    limit = CONF.max_json_body_size
    if req.content_length is not None:
        bodies.check_size(req.content_length, limit)
    # One byte more than allowed tells a chunked body that is too large.
    body = req.body_file.read(limit + 1)
    bodies.check_size(len(body), limit)
    return bodies.load_json(body)


def check_writable(context):
    """:raises Forbidden: a read-only (anonymous) caller (v2 spec §4.1)."""
    access.check_writable(context)


def find_image(context, image_id, message=None):
    """The live image ``image_id`` if the caller may see it and passes
    ``get_image``.

    :param message: the 404's text (default "No image found with ID <id>").
    :raises NotFound: unknown, deleted, invisible or refused by policy:
        always 404, never 403 (v2 spec §4.2).
    """
    missing = exception.NotFound(
        message or 'No image found with ID %s' % image_id[:36])
    try:
        image = access.get_visible_image(context, image_id)
    except exception.ImageNotFound:
        raise missing
    if access.is_deleted(image):
        raise missing
    if not policy.allows(context, 'get_image',
                         policy.image_target(context, image)):
        raise missing
    return image


def authorize(context, rule, image, message=None):
    """Check ``rule`` on ``image`` (v2 spec §4.4): a denial is 403 with
    ``message`` (default "You are not authorized to complete <rule>
    action."), or 404 when the caller could not read the image either.

    :raises Forbidden, NotFound:
    """
    target = policy.image_target(context, image)
    if policy.allows(context, rule, target):
        return
    if not policy.allows(context, 'get_image', target):
        raise exception.NotFound('No image found with ID %s' % image['id'])
    raise exception.Forbidden(
        message or 'You are not authorized to complete %s action.' % rule)


def check_owner(context, image, message='You do not own this image'):
    """:raises Forbidden: the caller may read but not change the image
    (v2 spec §4.3: admins and its owner may)."""
    if not access.is_mutable(context, image):
        raise exception.Forbidden(message)
