"""Members and shared images (spec §11): the v1 routes. The rules are
the domain's (``glance_lite.image.members``); here the JSON bodies are
parsed and policy is enforced."""

import json

from oslo_config import cfg
import webob

from glance_lite.api import image_headers
from glance_lite.api import policy
from glance_lite.api import serialization
from glance_lite.common import exception
from glance_lite.image import access
from glance_lite.image import members as image_members

CONF = cfg.CONF


def _context(req):
    return req.environ['glance_lite.context']


def _read_body(req):
    """The request body, read only up to ``max_member_body_size``: a
    declared length over it is refused unread, a chunked body is cut one
    byte past it (memory stays bounded either way).

    :raises LimitExceeded: 413.
    :raises ClientDisconnected: 400, the body was cut short or its chunked
        framing is broken.
    """
    limit = CONF.max_member_body_size
    too_large = exception.LimitExceeded(
        "Request body is larger than %d bytes." % limit)
    if req.content_length is not None and req.content_length > limit:
        raise too_large
    try:
        if req.content_length is not None:
            return req.body
        if not req.is_body_readable:
            return b''
        # Chunked: read from the server's (de-chunking) input directly, as
        # webob's req.body would buffer all of it first.
        data = req.environ['wsgi.input'].read(limit + 1)
    except ValueError as e:
        # The server found the chunked framing broken; its message says how.
        raise exception.ClientDisconnected(
            "Malformed request body, or the client went away before "
            "sending all of it: %s" % e)
    except OSError:
        # webob's DisconnectionError (a body shorter than its length),
        # socket errors and timeouts.
        raise exception.ClientDisconnected(
            "The client went away before sending all of the request body.")
    if len(data) > limit:
        raise too_large
    return data


# What _json_body returns for a request without a body.
NO_BODY = object()


def _json_body(req):
    """The request's JSON body, or NO_BODY when it has none.

    :raises Invalid: the body is not JSON, or is JSON but neither an object
        nor a list (spec §11.3 step 1, §11.4 step 4).
    """
    body = _read_body(req)
    if not body:
        return NO_BODY
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser's stack.
        raise exception.Invalid("Malformed JSON in request body.")
    if not isinstance(document, (dict, list)):
        raise exception.Invalid("Unexpected body type. Expected list/dict.")
    return document


def _can_share(value):
    """JSON booleans as given; strings by v1's boolean words (§18 Q6)."""
    if isinstance(value, str):
        return image_headers.is_true(value)
    if value is None or isinstance(value, bool):
        return value
    raise exception.Invalid("Invalid membership association")


def _no_content():
    return webob.Response(status=204, content_type=None)


class MembersController:

    def _check_change_allowed(self, context, action):
        access.check_writable(context)
        if context.owner is None and not context.is_admin:
            raise webob.exc.HTTPUnauthorized(explanation="No authenticated "
                                                         "user")
        policy.authorize(context, action)

    def index(self, req, image_id):
        """GET /v1/images/{id}/members: 200 {"members": [...]}."""
        context = _context(req)
        policy.authorize(context, 'get_members')
        image = image_members.image_for_members(context, image_id)
        members = image_members.visible_members(context, image)
        return serialization.json_response({'members': [
            {'member_id': m['member_id'], 'can_share': m['can_share']}
            for m in members]})

    def update_all(self, req, image_id):
        """PUT /v1/images/{id}/members: 204; the list becomes the body's
        ``memberships``."""
        context = _context(req)
        body = _json_body(req)
        self._check_change_allowed(context, 'modify_member')
        image = image_members.image_for_members(context, image_id)
        memberships = body.get('memberships') if isinstance(body,
                                                            dict) else None
        # Order of spec §11.3: quota (step 2), sharer (step 3), then the
        # shape of the body (step 4).
        if isinstance(memberships, list) and memberships:
            image_members.check_member_count(len(memberships))
        image_members.check_sharer(context, image)
        if not isinstance(memberships, list):
            raise exception.Invalid("Invalid membership association")
        parsed = []
        for entry in memberships:
            if not isinstance(entry, dict) or not isinstance(
                    entry.get('member_id'), str) or not entry['member_id']:
                raise exception.Invalid("Invalid membership association")
            image_members.check_member_id(entry['member_id'])
            parsed.append((entry['member_id'],
                           _can_share(entry.get('can_share'))))
        image_members.replace_all(image, parsed)
        return _no_content()

    def update(self, req, image_id, member_id):
        """PUT /v1/images/{id}/members/{member}: 204."""
        context = _context(req)
        body = _json_body(req)
        self._check_change_allowed(context, 'modify_member')
        image = image_members.image_for_members(context, image_id)
        # Only {"member": {"can_share": ...}} says anything; any other JSON
        # object or list means "no can_share given" (spec §11.4 step 4).
        can_share = None
        if isinstance(body, dict) and isinstance(body.get('member'), dict):
            can_share = _can_share(body['member'].get('can_share'))
        image_members.check_new_member(image, member_id)
        image_members.check_sharer(context, image)
        image_members.set_member(image, member_id, can_share)
        return _no_content()

    def delete(self, req, image_id, member_id):
        """DELETE /v1/images/{id}/members/{member}: 204."""
        context = _context(req)
        self._check_change_allowed(context, 'delete_member')
        image = image_members.image_for_members(context, image_id)
        image_members.check_sharer(context, image)
        image_members.delete_member(image, member_id)
        return _no_content()

    def index_shared_images(self, req, member_id):
        """GET /v1/shared-images/{member}: 200 {"shared_images": [...]}."""
        shared = image_members.shared_with(_context(req), member_id)
        return serialization.json_response({'shared_images': [
            {'image_id': m['image_id'], 'can_share': m['can_share']}
            for m in shared]})
