#!/usr/bin/python3
"""A FUSE filesystem that behaves like a stuck network filesystem.

Usage: stuck_fs.py MOUNTPOINT MODE [NAME=CONTENT_FILE ...]

Serves the named regular files (their size and mode are real, taken from
CONTENT_FILE). Depending on MODE, the kernel's requests for them never get an
answer, exactly what a client sees when an NFS or SMB server stops answering
with a "hard" mount:
  read     lookup, getattr and open answer; read(2) blocks forever
  open     lookup and getattr answer; open(2) blocks forever
  lookup   the directory can be listed, but looking a name up blocks forever
Prints "MOUNTED" once the mount is up; unmounts on SIGTERM (fusermount -u or
umount -l from outside also end it).

Why FUSE: it is the only way to get a real filesystem whose requests stay
unanswered inside the kernel (the reading thread sleeps in the VFS exactly as
it does on a stuck NFS mount) without a second machine; a hard NFS mount over
loopback from a stopped nfsd would do the same but needs the NFS server
packages, rpcbind and kernel nfsd in the test machine.
"""
import errno
import os
import stat
import sys
import threading
import time

import fusepy  # Debian: python3-fusepy


class Stuck(fusepy.Operations):
    def __init__(self, mode, files):
        self.mode = mode
        self.files = files  # name -> (size, mode)
        self.started = time.time()

    @staticmethod
    def hang():
        threading.Event().wait()  # never set: the request is never answered

    def getattr(self, path, fh=None):
        now = self.started
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2, "st_size": 4096,
                    "st_atime": now, "st_mtime": now, "st_ctime": now}
        name = path[1:]
        if name not in self.files:
            raise fusepy.FuseOSError(errno.ENOENT)
        if self.mode == "lookup":
            self.hang()
        size, mode = self.files[name]
        return {"st_mode": stat.S_IFREG | mode, "st_nlink": 1, "st_size": size,
                "st_atime": now, "st_mtime": now, "st_ctime": now}

    def readdir(self, path, fh):
        return [".", ".."] + sorted(self.files)

    def open(self, path, flags):
        if self.mode == "open":
            self.hang()
        return 0

    def read(self, path, size, offset, fh):
        self.hang()

    def statfs(self, path):
        return {"f_bsize": 4096, "f_blocks": 1, "f_bavail": 0, "f_bfree": 0, "f_namemax": 255}


def main():
    mountpoint, mode = sys.argv[1], sys.argv[2]
    files = {}
    for spec in sys.argv[3:]:
        name, _, source = spec.partition("=")
        st = os.stat(source)
        files[name] = (st.st_size, st.st_mode & 0o7777)

    def announce():
        while not os.path.ismount(mountpoint):
            time.sleep(0.01)
        print("MOUNTED", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    # Multithreaded: one stuck request must not stop the others (or the unmount).
    fusepy.FUSE(Stuck(mode, files), mountpoint, foreground=True, nothreads=False,
                allow_other=True, nonempty=True, attr_timeout=0, entry_timeout=0)


if __name__ == "__main__":
    main()
