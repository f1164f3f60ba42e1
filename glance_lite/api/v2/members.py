"""v2 members: ``/v2/images/{id}/members[/{member}]`` (v2 spec §15).

Only ``shared`` images have members. Their owner (or an admin) adds and
removes them; each member sets its own status, which only decides
whether the image is in its default list. The rules are the domain's
(``glance_lite.image.members``); here the bodies are parsed and every
refusal is worded and ordered as v2 spec §15.2 to v2 spec §15.6
say.
"""

import webob

from glance_lite.api import policy
from glance_lite.api.v2 import common
from glance_lite.api.v2 import views
from glance_lite.common import exception
from glance_lite.image import access
from glance_lite.image import members as image_members

MEMBER_FORM = 'Expected a member in the form: {"member": "image_id"}'
STATUS_FORM = 'Expected a status in the form: {"status": "status"}'


def _image_not_found(image_id):
    return 'Image %s not found.' % image_id[:36]


def _member_to_add(req):
    """The member id of a POST body (v2 spec §15.2 step 1).

    :raises Invalid: (400).
    """
    body = common.json_body(req)
    if not isinstance(body, dict):
        raise exception.Invalid(MEMBER_FORM)
    if 'member' not in body:
        raise exception.Invalid("Member to be added not specified")
    member_id = body['member']
    if member_id is None or member_id == '':
        raise exception.Invalid("Member can't be empty")
    if not isinstance(member_id, str):
        raise exception.Invalid(MEMBER_FORM)
    image_members.check_member_id(member_id)
    return member_id


def _status_to_set(req):
    """The status of a PUT body, not yet checked (v2 spec §15.5 step 1).

    :raises Invalid: (400).
    """
    body = common.json_body(req)
    if not isinstance(body, dict):
        raise exception.Invalid(STATUS_FORM)
    if 'status' not in body:
        raise exception.Invalid("Status not specified")
    return body['status']


def _allows(context, rule, image):
    return policy.allows(context, rule, policy.image_target(context, image))


class MembersController:

    def _find_image(self, context, image_id):
        return common.find_image(context, image_id,
                                 _image_not_found(image_id))

    def _managed_image(self, context, image_id, verb):
        """The image whose members its owner (or an admin) adds or removes:
        read-only callers 403, then lookup 404, then 403 "Not allowed to
        <verb> members for image <id>." for any other image or caller."""
        common.check_writable(context)
        image = self._find_image(context, image_id)
        refused = 'Not allowed to %s members for image %s.' % (verb, image_id)
        if (image['visibility'] != 'shared'
                or not access.is_mutable(context, image)):
            raise exception.Forbidden(refused)
        return image, refused

    def create(self, req, image_id):
        """POST: 200 (not 201) and the new ``pending`` member's JSON.

        :raises LimitExceeded: one member more than image_member_quota.
        :raises Conflict: 409, a live member already.
        """
        member_id = _member_to_add(req)
        context = common.context_of(req)
        image, refused = self._managed_image(context, image_id, 'create')
        common.authorize(context, 'add_member', image, refused)
        try:
            membership = image_members.add_member_v2(image, member_id)
        except exception.LimitExceeded as error:
            # The trailing colon is Glance's (V10).
            raise exception.LimitExceeded(
                'Image member limit exceeded for image %s: %s:'
                % (image_id, error.msg))
        return views.json_response(views.member_view(membership))

    def index(self, req, image_id):
        """GET: 200 {"members": [...], "schema": "/v2/schemas/members"} in
        creation order; a member sees its own entry only."""
        context = common.context_of(req)
        image = self._find_image(context, image_id)
        try:
            image_members.check_shared(image)
        except exception.Forbidden as error:
            raise exception.Forbidden(
                'Not allowed to list members for image %s: %s'
                % (image_id, error.msg))
        common.authorize(context, 'get_members', image)
        shown = []
        if _allows(context, 'get_member', image):
            shown = image_members.visible_members(context, image)
        return views.json_response({
            'members': [views.member_view(m) for m in shown],
            'schema': '/v2/schemas/members'})

    def _visible_member(self, context, image, member_id):
        """The membership the caller may read; every refusal is 404
        (v2 spec §15.4)."""
        try:
            image_members.check_shared(image)
        except exception.Forbidden as error:
            raise exception.NotFound(error.msg)
        return image_members.find_member(context, image, member_id)

    def show(self, req, image_id, member_id):
        """GET one: 200 and the member's JSON."""
        context = common.context_of(req)
        image = self._find_image(context, image_id)
        membership = self._visible_member(context, image, member_id)
        if not _allows(context, 'get_member', image):
            raise exception.NotFound(
                image_members.not_a_member_message(image, member_id))
        return views.json_response(views.member_view(membership))

    def update(self, req, image_id, member_id):
        """PUT: 200 and the member's JSON with its new status; only the
        member itself (or an admin) answers, never the owner."""
        status = _status_to_set(req)
        context = common.context_of(req)
        common.check_writable(context)
        image = self._find_image(context, image_id)
        refused = 'Not allowed to update members for image %s.' % image_id
        is_owner = (context.owner is not None
                    and context.owner == image['owner'])
        if image['visibility'] != 'shared' or (is_owner
                                               and not context.is_admin):
            raise exception.Forbidden(refused)
        self._visible_member(context, image, member_id)
        common.authorize(context, 'modify_member', image, refused)
        membership = image_members.set_member_status(image, member_id,
                                                     status)
        return views.json_response(views.member_view(membership))

    def delete(self, req, image_id, member_id):
        """DELETE: 204, the membership removed for both APIs."""
        context = common.context_of(req)
        image, refused = self._managed_image(context, image_id, 'delete')
        image_members.find_member(context, image, member_id)
        common.authorize(context, 'delete_member', image, refused)
        try:
            image_members.delete_member(image, member_id)
        except exception.NotFound:
            # Removed by someone else since it was found.
            raise exception.NotFound(
                image_members.not_a_member_message(image, member_id))
        return webob.Response(status=204, content_type=None)
