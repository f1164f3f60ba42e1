"""Image members: who an image is shared with, and who may change that
(v1 spec §11, v2 spec §15). Every API's member routes call these; parsing
a request body and policy are the caller's.

v1 shares through sharers (the owner, or members with ``can_share``) and
knows no member status; v2 lets only the owner manage the members of a
``shared`` image, and each member answer for itself with a status."""

from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.image import access
from glance_lite.image import quota

MAX_MEMBER_ID_LENGTH = 255
# A member's answers (v2 spec §15.1).
MEMBER_STATUSES = ('pending', 'accepted', 'rejected')
ONLY_SHARED = "Only shared images have members."


def check_member_id(member_id):
    """Member ids are free-form up to 255 characters; NUL bytes are
    refused (catalogue engines cannot store or even compare them).

    :raises Invalid: the id cannot be a member's.
    """
    if len(member_id) > MAX_MEMBER_ID_LENGTH:
        raise exception.Invalid("Member id too long")
    if '\x00' in member_id:
        raise exception.Invalid("Invalid member id")


def image_for_members(context, image_id):
    """The visible, live image whose members are read or changed.

    :raises ImageNotFound: no such visible image.
    :raises NotFound: it has been deleted.
    """
    image = access.get_visible_image(context, image_id)
    if access.is_deleted(image):
        raise exception.NotFound(
            "Image with identifier %s has been deleted." % image_id)
    return image


def check_sharer(context, image):
    """Only an admin, the owner, or a member with ``can_share`` may change
    an image's members.

    :raises NotFound: the caller may not (Glance hides the image's
        sharing from them).
    """
    if context.is_admin or access.is_mutable(context, image):
        return
    membership = access.is_member(context, image)
    if not (membership and membership['can_share']):
        raise exception.NotFound("No permission to share that image")


def visible_members(context, image):
    """The image's memberships the caller may see: all of them for its
    owner and admins, the caller's own otherwise."""
    members = db_api.member_list(image_id=image['id'])
    if not access.is_mutable(context, image):
        members = [m for m in members if m['member_id'] == context.owner]
    return members


def check_member_count(count):
    """:raises LimitExceeded: more members than image_member_quota."""
    quota.check_member_count(count)


def replace_all(image, memberships):
    """Make ``memberships`` ([(member_id, can_share)]) the image's members.
    """
    db_api.member_replace_all(image['id'], memberships)


def check_new_member(image, member_id):
    """Whether ``member_id`` may be added to (or stay among) the image's
    members.

    :raises Invalid: a bad member id.
    :raises LimitExceeded: a new member over image_member_quota.
    """
    check_member_id(member_id)
    existing = db_api.member_list(image_id=image['id'])
    if member_id not in {m['member_id'] for m in existing}:
        quota.check_member_count(len(existing) + 1)


def set_member(image, member_id, can_share=None):
    """Add ``member_id`` to the image's members, or change its
    ``can_share`` (None: unchanged for a member, false for a new one)."""
    db_api.member_set(image['id'], member_id, can_share)


def delete_member(image, member_id):
    """Remove ``member_id`` from the image's members.

    :raises NotFound: it is not a member.
    """
    if '\x00' in member_id or not db_api.member_delete(image['id'],
                                                       member_id):
        raise exception.NotFound("Membership could not be found.")


def shared_with(context, member_id):
    """The live images shared with ``member_id`` that the caller may know
    of (spec §11.6): non-admins see memberships on their own images and
    their own memberships only.

    :returns: [membership dict], each with ``image_id`` and ``can_share``.
    """
    if '\x00' in member_id:
        # No member can have it; the catalogue cannot search for it.
        return []
    shared = []
    own = member_id == context.owner
    for membership in db_api.member_list(member=member_id):
        try:
            image = access.get_visible_image(context, membership['image_id'])
        except exception.ImageNotFound:
            continue
        if not (own or access.is_mutable(context, image)):
            continue
        if not access.is_deleted(image):
            shared.append(membership)
    return shared


def check_shared(image):
    """:raises Forbidden: the image is not ``shared``, the only visibility
    whose members mean anything (v2 spec §4.2)."""
    if image['visibility'] != 'shared':
        raise exception.Forbidden(ONLY_SHARED)


def not_a_member_message(image, member_id):
    return "%s not found in the member list of the image %s." % (
        member_id, image['id'])


def find_member(context, image, member_id):
    """The live membership ``member_id`` of the image, if the caller may
    see it: the owner and admins see every one, anyone else only its own.

    :raises NotFound: (v2 spec §15.4).
    """
    membership = None
    may_see = (access.is_mutable(context, image)
               or member_id == context.owner)
    if may_see and '\x00' not in member_id:
        membership = db_api.member_find(image['id'], member_id)
    if membership is None:
        raise exception.NotFound(not_a_member_message(image, member_id))
    return membership


def add_member_v2(image, member_id):
    """Add ``member_id`` as a new (or revived) ``pending`` member without
    ``can_share``; the image's visibility is left as it is.

    :returns: the membership.
    :raises Invalid: a bad member id.
    :raises LimitExceeded: one member more than image_member_quota.
    :raises Conflict: it is a live member already.
    """
    check_member_id(member_id)
    count = len(db_api.member_list(image_id=image['id']))
    quota.check_member_count(count + 1)
    return db_api.member_add(image['id'], member_id)


def set_member_status(image, member_id, status):
    """Record a member's answer; its ``can_share`` stays (v2 spec §21.3,
    X-7).

    :returns: the membership.
    :raises Invalid: not one of MEMBER_STATUSES.
    :raises NotFound: ``member_id`` is no longer a member.
    """
    if status not in MEMBER_STATUSES:
        raise exception.Invalid(
            'Incorrect request: Status must be "pending", "accepted" or '
            '"rejected".')
    membership = db_api.member_set_status(image['id'], member_id, status)
    if membership is None:
        raise exception.NotFound(not_a_member_message(image, member_id))
    return membership
