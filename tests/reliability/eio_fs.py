"""A FUSE file system that passes through to a backing directory, except
that writes fail with EIO (a dying disk) while a file named ``.fail-writes``
exists in the backing directory.

Run by tests/reliability/test_store_errors.py under the system Python
(Debian's python3-fusepy, installed by tools/fuse/setup.sh):

    /usr/bin/python3 eio_fs.py BACKING_DIR MOUNTPOINT

It stays in the foreground until the mount point is unmounted.
"""

import errno
import os
import sys

import fusepy

FAIL_FLAG = '.fail-writes'


class EioPassthrough(fusepy.Operations):

    def __init__(self, root):
        self.root = root

    def _path(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def _failing(self):
        return os.path.exists(os.path.join(self.root, FAIL_FLAG))

    def getattr(self, path, fh=None):
        st = os.lstat(self._path(path))
        return {key: getattr(st, key) for key in (
            'st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_size',
            'st_atime', 'st_mtime', 'st_ctime')}

    def readdir(self, path, fh):
        return ['.', '..'] + [name for name in os.listdir(self._path(path))
                              if name != FAIL_FLAG]

    def access(self, path, mode):
        if not os.access(self._path(path), mode):
            raise fusepy.FuseOSError(errno.EACCES)

    def statfs(self, path):
        st = os.statvfs(self._path(path))
        return {key: getattr(st, key) for key in (
            'f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail',
            'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')}

    def create(self, path, mode, fi=None):
        return os.open(self._path(path), os.O_WRONLY | os.O_CREAT |
                       os.O_EXCL, mode)

    def open(self, path, flags):
        return os.open(self._path(path), flags)

    def read(self, path, size, offset, fh):
        os.lseek(fh, offset, os.SEEK_SET)
        return os.read(fh, size)

    def write(self, path, data, offset, fh):
        if self._failing():
            raise fusepy.FuseOSError(errno.EIO)
        os.lseek(fh, offset, os.SEEK_SET)
        return os.write(fh, data)

    def truncate(self, path, length, fh=None):
        with open(self._path(path), 'r+b') as f:
            f.truncate(length)

    def chmod(self, path, mode):
        os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._path(path), uid, gid)

    def unlink(self, path):
        os.unlink(self._path(path))

    def mkdir(self, path, mode):
        os.mkdir(self._path(path), mode)

    def rmdir(self, path):
        os.rmdir(self._path(path))

    def utimens(self, path, times=None):
        os.utime(self._path(path), times)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)

    def fsync(self, path, datasync, fh):
        os.fsync(fh)


if __name__ == '__main__':
    backing, mountpoint = sys.argv[1:3]
    fusepy.FUSE(EioPassthrough(backing), mountpoint, foreground=True,
                nothreads=True)
