"""The catalogue query behind storage quotas (spec §15.3)."""

import sqlalchemy as sa

from glance_lite.common import status as image_status
from glance_lite.db import engine
from glance_lite.db import models


@engine.reader
def storage_usage(session, owner, exclude_image_id=None):
    """Bytes of image data an owner holds (spec §15.3): size times live
    locations, over images that are neither killed nor deleted."""
    image, location = models.Image, models.ImageLocation
    live_locations = sa.select(sa.func.count(location.id)).where(
        location.image_id == image.id,
        location.status != image_status.LOCATION_DELETED).scalar_subquery()
    query = sa.select(sa.func.coalesce(sa.func.sum(
        image.size * live_locations), 0)).where(
        image.owner == owner,
        image.status.notin_([image_status.KILLED, image_status.DELETED]),
        image.size > 0)
    if exclude_image_id is not None:
        query = query.where(image.id != exclude_image_id)
    return int(session.scalar(query))
