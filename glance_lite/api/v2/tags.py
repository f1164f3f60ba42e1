"""v2 tags: ``PUT`` and ``DELETE /v2/images/{id}/tags/{tag}``
(v2 spec §14). The rules are the domain's (``glance_lite.image.tags``);
here they are put in the route's order and words."""

import webob

from glance_lite.api.v2 import common
from glance_lite.api.v2 import schemas
from glance_lite.common import exception
from glance_lite.image import tags as image_tags


def _not_found(image_id):
    return 'Image %s not found.' % image_id[:36]


class TagsController:

    def _mutable_image(self, req, image_id, verb):
        """The image whose tags the caller changes: read-only callers
        first (403), then the lookup (404), then policy and ownership
        (403 "Not allowed to <verb> tags for image <id>.")."""
        context = common.context_of(req)
        common.check_writable(context)
        image = common.find_image(context, image_id, _not_found(image_id))
        refused = 'Not allowed to %s tags for image %s.' % (verb, image_id)
        common.authorize(context, 'modify_image', image, refused)
        common.check_owner(context, image, refused)
        return image

    def update(self, req, image_id, tag):
        """PUT: 204 with the tag added (or already there).

        :raises Invalid: a tag the image schema refuses, or one with
            characters the catalogue cannot hold (400).
        :raises LimitExceeded: one tag more than image_tag_quota (413).
        """
        # The tag is part of the request: it is checked before anything
        # else is (v2 spec §4.1).
        schemas.validate_image({'tags': [tag]})
        image = self._mutable_image(req, image_id, 'update')
        try:
            image_tags.add_tag(image, tag)
        except exception.LimitExceeded as error:
            # The trailing colon is Glance's (V10).
            raise exception.LimitExceeded(
                'Image tag limit exceeded for image %s: %s:'
                % (image_id, error.msg))
        except exception.ImageNotFound:
            raise exception.NotFound(_not_found(image_id))
        return webob.Response(status=204, content_type=None)

    def delete(self, req, image_id, tag):
        """DELETE: 204 with the tag removed.

        :raises NotFound: the image does not have the tag (404).
        """
        image = self._mutable_image(req, image_id, 'delete')
        try:
            image_tags.remove_tag(image, tag)
        except exception.ImageNotFound:
            raise exception.NotFound(_not_found(image_id))
        return webob.Response(status=204, content_type=None)
