"""The image status state machine (spec §16): the one place that says
which status may follow which.

Two tables decide. ``TRANSITIONS`` holds the moves requests and uploads
make. ``REPAIRS`` holds the moves only a named repair or undo may make
(an operator's clean-up, a delete whose data could not be removed): each
is asked for with its reason, so no code has to write a status around the
table. The database layer writes every status through one function that
asks ``check_transition`` first, under a row lock, so two requests racing
for the same transition cannot both win.
"""

from glance_lite.common import exception

QUEUED = 'queued'
SAVING = 'saving'
ACTIVE = 'active'
KILLED = 'killed'
DEACTIVATED = 'deactivated'
PENDING_DELETE = 'pending_delete'
DELETED = 'deleted'

ALL = (QUEUED, SAVING, ACTIVE, KILLED, DEACTIVATED, PENDING_DELETE, DELETED)

# Statuses in which the record is soft-deleted.
DELETED_STATUSES = (PENDING_DELETE, DELETED)

# from-status -> statuses it may move to.
TRANSITIONS = {
    QUEUED: {SAVING, ACTIVE, DELETED},
    # A failed upload: v1 kills the image (spec §16), v2 puts it back to
    # queued for another try (v2 spec §18).
    SAVING: {ACTIVE, KILLED, QUEUED, DELETED, PENDING_DELETE},
    ACTIVE: {DEACTIVATED, DELETED, PENDING_DELETE},
    DEACTIVATED: {ACTIVE, DELETED, PENDING_DELETE},
    KILLED: {DELETED},
    PENDING_DELETE: {DELETED},
    DELETED: set(),
}

# Reasons for the moves of REPAIRS.
# An upload that stopped refreshing its image (its process died) is
# ended by ``images clean-stale`` as its API ends a failed upload: killed
# (v1) or queued again (v2).
REPAIR_STALE_UPLOAD = 'stale_upload'
# The store lost the data of an image with no other location: it can no
# longer be served (``store check --repair``).
REPAIR_MISSING_DATA = 'missing_data'
# A delete is taken back (its data could not be removed from the store,
# or an operator restores a pending_delete image, ``images restore``):
# the image returns to a status it can have been deleted from.
UNDO_DELETE = 'undo_delete'

# reason -> the (from-status, to-status) moves it allows.
REPAIRS = {
    REPAIR_STALE_UPLOAD: {(SAVING, KILLED), (SAVING, QUEUED)},
    REPAIR_MISSING_DATA: {(ACTIVE, KILLED), (DEACTIVATED, KILLED)},
    UNDO_DELETE: (
        {(DELETED, before) for before, targets in TRANSITIONS.items()
         if DELETED in targets and before not in DELETED_STATUSES} |
        {(PENDING_DELETE, before) for before, targets in TRANSITIONS.items()
         if PENDING_DELETE in targets}),
}

# Location statuses (rows of image_locations). Live data is ``active``;
# a delayed delete leaves it ``pending_delete`` for a scrubber; data
# removed, or found missing, is ``deleted``.
LOCATION_ACTIVE = 'active'
LOCATION_PENDING_DELETE = 'pending_delete'
LOCATION_DELETED = 'deleted'

# Locations whose data must be kept in the store.
LOCATION_KEPT_STATUSES = (LOCATION_ACTIVE, LOCATION_PENDING_DELETE)


def can_transition(from_status, to_status, reason=None):
    """True if an image in ``from_status`` may move to ``to_status``.

    :param reason: None for the moves of ``TRANSITIONS``; a reason of
        ``REPAIRS`` for the moves of that repair only.
    """
    if reason is None:
        return to_status in TRANSITIONS.get(from_status, ())
    return (from_status, to_status) in REPAIRS.get(reason, ())


def check_transition(image_id, from_status, to_status, reason=None):
    """Raise InvalidTransition unless ``can_transition`` allows the move."""
    if not can_transition(from_status, to_status, reason):
        raise exception.InvalidTransition(image_id, from_status, to_status,
                                          reason)


def sources_of(to_status):
    """Every status from which ``to_status`` may be reached (by requests
    and uploads, ``TRANSITIONS``)."""
    return sorted(status for status, targets in TRANSITIONS.items()
                  if to_status in targets)
