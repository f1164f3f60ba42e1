"""The process's memory allocator, set once at start-up.

Image data moves through the service in large pieces (8 MiB rbd
objects, S3 parts) that each request thread allocates and frees. glibc
gives threads their own malloc arenas, up to eight per core, and keeps
what each arena held for the next allocation of that thread: after a
few 1 GiB rbd transfers on 16 threads the API process held 300 MiB more
than idle, and a download peaked at +590 MiB (bench figures in
docs/performance.md). Two arenas keep that to what the transfers in
flight need; the Python interpreter allocates its small objects itself,
under the GIL, so few arenas cost nothing measurable.
"""

import ctypes
import ctypes.util

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# mallopt's parameter number for the arena limit (glibc's malloc.h).
M_ARENA_MAX = -8


def limit_malloc_arenas(count):
    """Ask glibc's malloc for at most ``count`` arenas (0: leave its
    default). It applies to the arenas created from now on: call it
    before the request threads allocate. True if the C library took
    the setting; False with another C library (musl has no arenas)."""
    if count <= 0:
        return False
    name = ctypes.util.find_library('c')
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    applied = mallopt(M_ARENA_MAX, count) == 1
    if not applied:
        LOG.warning("The C library refused malloc_arena_max = %d", count)
    return applied
