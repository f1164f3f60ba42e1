"""Quotas (spec §15.2, §15.3, §11): the one place that decides whether a
request fits the configured limits."""

import re

from oslo_config import cfg

from glance_lite.common import exception
from glance_lite.db import api as db_api

CONF = cfg.CONF

# Properties glance_lite keeps for itself (the import lock and progress
# markers): no quota counts them (v2 spec §5.4, X-15).
INTERNAL_PREFIX = 'os_glance'

_UNITS = {'': 1, 'B': 1, 'KB': 1024, 'MB': 1024 ** 2, 'GB': 1024 ** 3,
          'TB': 1024 ** 4}


def storage_quota_bytes():
    """``user_storage_quota`` in bytes (0: no quota)."""
    number, unit = re.match(r'^(\d+)([A-Z]*)$',
                            CONF.user_storage_quota).groups()
    return int(number) * _UNITS[unit]


def check_property_count(count):
    """Raise LimitExceeded when an image would have too many properties."""
    limit = CONF.image_property_quota
    if limit >= 0 and count > limit:
        raise exception.LimitExceeded(
            "The limit has been exceeded on the number of allowed image "
            "properties. Attempted: %d, Maximum: %d" % (count, limit))


def property_count(names):
    """How many of the property ``names`` the property quota counts: all
    but glance_lite's own ``os_glance*`` ones."""
    return sum(1 for name in names if not name.startswith(INTERNAL_PREFIX))


def check_tag_count(count):
    """Raise LimitExceeded when an image would have too many tags
    (``image_tag_quota``; negative: unlimited)."""
    limit = CONF.image_tag_quota
    if limit >= 0 and count > limit:
        raise exception.LimitExceeded(
            "The limit has been exceeded on the number of allowed image "
            "tags. Attempted: %d, Maximum: %d" % (count, limit))


def check_member_count(count):
    """Raise LimitExceeded when an image would have too many members."""
    limit = CONF.image_member_quota
    if limit >= 0 and count > limit:
        raise exception.LimitExceeded(
            "The limit has been exceeded on the number of allowed image "
            "members for this image. Attempted: %d, Maximum: %d"
            % (count, limit))


def remaining_storage(owner, image_id):
    """Bytes ``owner`` may still store for ``image_id``, or None when no
    quota is configured. A caller without an owner (no-auth, an admin
    without a tenant) has no usage but is held to the quota (spec §15.3,
    §19 scenario 40)."""
    quota = storage_quota_bytes()
    if not quota:
        return None
    if owner is None:
        return quota
    return max(quota - db_api.storage_usage(owner, image_id), 0)


def check_storage(size, remaining):
    """Raise StorageQuotaExceeded (a LimitExceeded) when ``size`` bytes
    exceed what remains."""
    if remaining is not None and size > remaining:
        raise exception.StorageQuotaExceeded(
            "Denying attempt to upload image because it exceeds the quota: "
            "the remaining storage quota is %d bytes, the image needs %d."
            % (remaining, size))
