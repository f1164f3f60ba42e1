"""The image status state machine (spec §16): the one place that says
which status may follow which.

The database layer applies every transition as a conditional update
("set status to B where status is A"), so two requests racing for the same
transition cannot both win.
"""

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
    SAVING: {ACTIVE, KILLED, DELETED, PENDING_DELETE},
    ACTIVE: {DEACTIVATED, DELETED, PENDING_DELETE},
    DEACTIVATED: {ACTIVE, DELETED, PENDING_DELETE},
    KILLED: {DELETED},
    PENDING_DELETE: {DELETED},
    DELETED: set(),
}


def can_transition(from_status, to_status):
    """True if an image in ``from_status`` may move to ``to_status``."""
    return to_status in TRANSITIONS.get(from_status, ())


def sources_of(to_status):
    """Every status from which ``to_status`` may be reached."""
    return sorted(status for status, targets in TRANSITIONS.items()
                  if to_status in targets)
