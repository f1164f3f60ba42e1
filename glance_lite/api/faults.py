"""The one place that turns exceptions into HTTP error answers (spec §12).

WebOb's error responses pick an HTML, JSON or plain-text body from the
request's Accept header, as Glance's did; the message is the explanation.
"""

from oslo_db import exception as db_exc
from oslo_log import log as logging
import webob.exc

from glance_lite.common import exception

LOG = logging.getLogger(__name__)

_STATUS_BY_ERROR = [
    (exception.ImageDeletedDuringUpload, webob.exc.HTTPPreconditionFailed),
    (exception.LimitExceeded, webob.exc.HTTPRequestEntityTooLarge),
    (exception.StoreAddDisabled, webob.exc.HTTPGone),
    (exception.StoreUnavailable, webob.exc.HTTPServiceUnavailable),
    (exception.DatabaseUnavailable, webob.exc.HTTPServiceUnavailable),
    (exception.Invalid, webob.exc.HTTPBadRequest),
    (exception.Forbidden, webob.exc.HTTPForbidden),
    (exception.NotFound, webob.exc.HTTPNotFound),
    (exception.Conflict, webob.exc.HTTPConflict),
    (exception.StoreError, webob.exc.HTTPInternalServerError),
]


def json_error(body, status, title, environ):
    # WebOb's default joins explanation and detail with HTML line breaks;
    # JSON clients get the plain message.
    return {'message': body.replace('<br /><br />', ' ').strip(),
            'code': status, 'title': title}


def to_http_error(error):
    """The webob error answer for an exception raised by a controller."""
    if isinstance(error, webob.exc.HTTPException):
        return error
    for error_class, http_class in _STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return http_class(explanation=error.msg,
                              json_formatter=json_error)
    if isinstance(error, db_exc.DBConnectionError):
        LOG.error("Database unreachable: %s", error)
        return webob.exc.HTTPServiceUnavailable(
            explanation=exception.DatabaseUnavailable.message)
    LOG.exception("Unexpected error")
    return webob.exc.HTTPInternalServerError(
        explanation="The server has either erred or is incapable of "
                    "performing the requested operation.")
