"""Rules on additional (custom) property names that both APIs share (v2
spec §5.4 and v2 spec §21.6)."""

from glance_lite.common import exception

# Properties glance_lite keeps for itself (the import lock and progress of
# v2 spec §17.4): shown, never written by clients, not counted by the
# property quota, kept by a v1 purge.
OWN_PREFIX = 'os_glance'

# Names a v1 client may not give a property: the v2 core and
# reserved attribute names, which would be hidden by the attribute in v2.
V2_ATTRIBUTE_NAMES = frozenset([
    'visibility', 'os_hidden', 'os_hash_algo', 'os_hash_value', 'tags',
    'self', 'file', 'schema', 'locations', 'direct_url', 'stores',
    'location', 'deleted', 'deleted_at', 'id', 'name', 'status', 'size',
    'virtual_size', 'checksum', 'disk_format', 'container_format',
    'min_disk', 'min_ram', 'owner', 'protected', 'created_at',
    'updated_at'])


def is_own(name):
    return name.startswith(OWN_PREFIX)


def counted(names):
    """How many of ``names`` the property quota counts (X-15)."""
    return sum(1 for name in names if not is_own(name))


def check_v1_names(stored, requested):
    """Refuse v1 writes of reserved property names (X-14): a name that is
    glance_lite's own or a v2 attribute's may not be created or changed
    through v1. One stored before the catalogue served v2 may be sent
    back unchanged (clients echo every property they read).

    :param stored: the image's properties now ({} for a new image).
    :param requested: the properties the request sets.
    :raises Forbidden: "Attribute 'k' is reserved."
    """
    for name, value in requested.items():
        if not (is_own(name) or name in V2_ATTRIBUTE_NAMES):
            continue
        if name in stored and stored[name] == value:
            continue
        raise exception.Forbidden("Attribute '%s' is reserved." % name)
