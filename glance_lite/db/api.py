"""The catalogue: the one module callers import (``from glance_lite.db
import api as db_api``).

Functions take and return plain dicts: ``properties`` maps names to
values, ``locations`` lists the live store locations (never shown to
clients). Visibility rules are decided by the API layer, except for lists,
whose scoping must happen in SQL (``image_list``, ``image_list_v2``).

The queries live by concern in images, listing (v1 lists), listing_v2
(v2 lists; list_clauses holds what both build on), members, quota,
maintenance, scrub and purge; sessions come from oslo.db's enginefacade
(engine). Every image status change is checked against the state machine
of common/status.py by one writer (records.set_status), under a row
lock, so concurrent requests cannot both win a transition (spec §16).
"""

from glance_lite.db import engine
from glance_lite.db import images
from glance_lite.db import list_clauses
from glance_lite.db import listing
from glance_lite.db import listing_v2
from glance_lite.db import maintenance
from glance_lite.db import members
from glance_lite.db import purge
from glance_lite.db import quota
from glance_lite.db import records
from glance_lite.db import scrub

IMAGE_FIELDS = records.IMAGE_FIELDS
SORT_KEYS = listing.SORT_KEYS
PROPERTY_VALUE_PREFIX = list_clauses.PROPERTY_VALUE_PREFIX

get_engine = engine.get_engine
reset = engine.reset

image_get = images.image_get
image_create = images.image_create
image_update = images.image_update
image_tag_add = images.image_tag_add
image_tag_delete = images.image_tag_delete
image_transition = images.image_transition
image_kill = images.image_kill
image_requeue = images.image_requeue
image_destroy = images.image_destroy
image_restore_status = images.image_restore_status

image_list = listing.image_list
image_list_query = listing.image_list_query
image_list_v2 = listing_v2.image_list_v2
image_list_v2_query = listing_v2.image_list_v2_query

member_find = members.member_find
member_list = members.member_list
member_set = members.member_set
member_add = members.member_add
member_set_status = members.member_set_status
member_replace_all = members.member_replace_all
member_delete = members.member_delete

storage_usage = quota.storage_usage

image_heartbeat = maintenance.image_heartbeat
image_list_stale_saving = maintenance.image_list_stale_saving
image_end_stale_upload = maintenance.image_end_stale_upload
image_data_records = maintenance.image_data_records
image_list_with_data = maintenance.image_list_with_data
image_drop_missing_location = maintenance.image_drop_missing_location

image_list_scrubbable = scrub.image_list_scrubbable
image_claim_for_scrub = scrub.image_claim_for_scrub
image_location_scrubbed = scrub.image_location_scrubbed
image_finish_scrub = scrub.image_finish_scrub
image_release_scrub = scrub.image_release_scrub
image_restore_pending = scrub.image_restore_pending

purge_history_tables = purge.history_tables
purge_table = purge.purge_table
