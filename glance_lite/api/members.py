"""Members and shared images (spec §11)."""

import json

from oslo_config import cfg
import webob

from glance_lite.api import access
from glance_lite.api import image_headers
from glance_lite.api import policy
from glance_lite.api import quota
from glance_lite.api import serialization
from glance_lite.common import exception
from glance_lite.db import api as db_api

CONF = cfg.CONF


def _context(req):
    return req.environ['glance_lite.context']


def _read_body(req):
    """The request body, read only up to ``max_member_body_size``: a
    declared length over it is refused unread, a chunked body is cut one
    byte past it (memory stays bounded either way).

    :raises LimitExceeded: 413.
    """
    limit = CONF.max_member_body_size
    too_large = exception.LimitExceeded(
        "Request body is larger than %d bytes." % limit)
    if req.content_length is not None:
        if req.content_length > limit:
            raise too_large
        return req.body
    if not req.is_body_readable:
        return b''
    # Chunked: read from the server's (de-chunking) input directly, as
    # webob's req.body would buffer all of it first.
    data = req.environ['wsgi.input'].read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def _json_body(req):
    body = _read_body(req)
    try:
        return json.loads(body) if body else None
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser's stack.
        raise exception.Invalid("Malformed JSON in request body.")


def _can_share(value):
    """JSON booleans as given; strings by v1's boolean words (§18 Q6)."""
    if isinstance(value, str):
        return image_headers.is_true(value)
    if value is None or isinstance(value, bool):
        return value
    raise exception.Invalid("Invalid membership association")


def _check_member_id(member_id):
    """Member ids are free-form up to 255 characters; NUL bytes are
    refused (catalogue engines cannot store or even compare them)."""
    if len(member_id) > 255:
        raise exception.Invalid("Member id too long")
    if '\x00' in member_id:
        raise exception.Invalid("Invalid member id")


def _no_content():
    return webob.Response(status=204, content_type=None)


class MembersController:

    def _image_for_members(self, context, image_id):
        image = access.get_visible_image(context, image_id)
        if access.is_deleted(image):
            raise exception.NotFound(
                "Image with identifier %s has been deleted." % image_id)
        return image

    def _check_change_allowed(self, context, action):
        access.check_writable(context)
        if context.owner is None and not context.is_admin:
            raise webob.exc.HTTPUnauthorized(explanation="No authenticated "
                                                         "user")
        policy.authorize(context, action)

    def _check_sharer(self, context, image):
        if context.is_admin or access.is_mutable(context, image):
            return
        membership = access.is_member(context, image)
        if not (membership and membership['can_share']):
            raise exception.NotFound("No permission to share that image")

    def index(self, req, image_id):
        """GET /v1/images/{id}/members: 200 {"members": [...]}."""
        context = _context(req)
        policy.authorize(context, 'get_members')
        image = self._image_for_members(context, image_id)
        members = db_api.member_list(image_id=image_id)
        if not access.is_mutable(context, image):
            members = [m for m in members if m['member_id'] == context.owner]
        return serialization.json_response({'members': [
            {'member_id': m['member_id'], 'can_share': m['can_share']}
            for m in members]})

    def update_all(self, req, image_id):
        """PUT /v1/images/{id}/members: 204; the list becomes the body's
        ``memberships``."""
        context = _context(req)
        body = _json_body(req)
        if body is not None and not isinstance(body, (dict, list)):
            raise exception.Invalid("Unexpected body type. Expected "
                                    "list/dict.")
        self._check_change_allowed(context, 'modify_member')
        image = self._image_for_members(context, image_id)
        memberships = body.get('memberships') if isinstance(body,
                                                            dict) else None
        # Order of spec §11.3: quota (step 2), sharer (step 3), then the
        # shape of the body (step 4).
        if isinstance(memberships, list) and memberships:
            quota.check_member_count(len(memberships))
        self._check_sharer(context, image)
        if not isinstance(memberships, list):
            raise exception.Invalid("Invalid membership association")
        parsed = []
        for entry in memberships:
            if not isinstance(entry, dict) or not isinstance(
                    entry.get('member_id'), str) or not entry['member_id']:
                raise exception.Invalid("Invalid membership association")
            _check_member_id(entry['member_id'])
            parsed.append((entry['member_id'],
                           _can_share(entry.get('can_share'))))
        db_api.member_replace_all(image_id, parsed)
        return _no_content()

    def update(self, req, image_id, member_id):
        """PUT /v1/images/{id}/members/{member}: 204."""
        context = _context(req)
        body = _json_body(req)
        self._check_change_allowed(context, 'modify_member')
        image = self._image_for_members(context, image_id)
        # Only {"member": {"can_share": ...}} says anything; any other JSON
        # body means "no can_share given" (spec §11.4 step 4).
        can_share = None
        if isinstance(body, dict) and isinstance(body.get('member'), dict):
            can_share = _can_share(body['member'].get('can_share'))
        _check_member_id(member_id)
        existing = db_api.member_list(image_id=image_id)
        if member_id not in {m['member_id'] for m in existing}:
            quota.check_member_count(len(existing) + 1)
        self._check_sharer(context, image)
        db_api.member_set(image_id, member_id, can_share)
        return _no_content()

    def delete(self, req, image_id, member_id):
        """DELETE /v1/images/{id}/members/{member}: 204."""
        context = _context(req)
        self._check_change_allowed(context, 'delete_member')
        image = self._image_for_members(context, image_id)
        self._check_sharer(context, image)
        if '\x00' in member_id:
            raise exception.NotFound("Membership could not be found.")
        if not db_api.member_delete(image_id, member_id):
            raise exception.NotFound("Membership could not be found.")
        return _no_content()

    def index_shared_images(self, req, member_id):
        """GET /v1/shared-images/{member}: 200 {"shared_images": [...]}."""
        context = _context(req)
        if '\x00' in member_id:
            # No member can have it; the catalogue cannot search for it.
            return serialization.json_response({'shared_images': []})
        shared = []
        own = member_id == context.owner
        for membership in db_api.member_list(member=member_id):
            try:
                image = access.get_visible_image(context,
                                                 membership['image_id'])
            except exception.ImageNotFound:
                continue
            # Non-admins see memberships on their own images and their own
            # memberships only (spec §11.6).
            if not (own or access.is_mutable(context, image)):
                continue
            if not access.is_deleted(image):
                shared.append({'image_id': membership['image_id'],
                               'can_share': membership['can_share']})
        return serialization.json_response({'shared_images': shared})
