"""Image tags (v2 spec §14, v2 spec §5.5): what a tag may be, how many an image
may have, and adding or removing one. The v2 tag routes, create and PATCH
of ``/tags`` share these rules; each words its own errors around them."""

from oslo_config import cfg

from glance_lite.common import exception
from glance_lite.db import api as db_api

CONF = cfg.CONF

MAX_TAG_LENGTH = 255


def tag_limit():
    """image_tag_quota, or None when it is negative (no limit)."""
    limit = CONF.image_tag_quota
    return limit if limit >= 0 else None


def limit_message(attempted):
    """The quota's own words for an image that would have ``attempted``
    tags (v2 spec §7.2 step 8, v2 spec §10.3)."""
    return ("The limit has been exceeded on the number of allowed image "
            "tags. Attempted: %d, Maximum: %d" % (attempted, tag_limit()))


def check_tag(tag):
    """One tag: 1 to 255 characters, no 4-byte UTF-8 character and no NUL
    (catalogue engines cannot store them everywhere).

    :raises Invalid: (400).
    """
    if not tag or len(tag) > MAX_TAG_LENGTH:
        raise exception.Invalid(
            "A tag has 1 to %d characters." % MAX_TAG_LENGTH)
    if any(ord(ch) > 0xFFFF for ch in tag):
        raise exception.Invalid(
            "Tags can't contain 4 byte unicode characters.")
    if '\x00' in tag:
        raise exception.Invalid("Tags can't contain NUL characters.")


def distinct(tags):
    """``tags`` without repeats, each where it first appears (V16)."""
    return list(dict.fromkeys(tags))


def check_tags(tags):
    """A whole list of tags for one image (create, PATCH): every tag valid
    and, once repeats collapse, no more than image_tag_quota.

    :returns: the distinct tags, in first-given order.
    :raises Invalid: a bad tag (400).
    :raises LimitExceeded: too many (413), with limit_message's text.
    """
    for tag in tags:
        check_tag(tag)
    tags = distinct(tags)
    limit = tag_limit()
    if limit is not None and len(tags) > limit:
        raise exception.LimitExceeded(limit_message(len(tags)))
    return tags


def add_tag(image, tag):
    """Give the image ``tag``; nothing changes if it has it already.

    :raises Invalid: a bad tag.
    :raises LimitExceeded: one tag more than image_tag_quota, with
        limit_message's text.
    :raises ImageNotFound: the image was deleted meanwhile.
    """
    check_tag(tag)
    try:
        db_api.image_tag_add(image['id'], tag, tag_limit())
    except exception.LimitExceeded as error:
        raise exception.LimitExceeded(limit_message(error.attempted))


def remove_tag(image, tag):
    """Take ``tag`` off the image.

    :raises NotFound: the image does not have it.
    :raises ImageNotFound: the image was deleted meanwhile.
    """
    if not db_api.image_tag_delete(image['id'], tag):
        raise exception.NotFound(
            "Tag %s not found for image %s." % (tag, image['id']))
