#!/usr/bin/env python3
"""powerfs: a FUSE filesystem that loses, at a simulated power cut, everything that was never synced.

    powerfs.py STORE MOUNTPOINT      (foreground; unmount with `fusermount -u MOUNTPOINT`)
    echo cut > MOUNTPOINT/.powercut  the power cut: returns once everything unsynced is thrown away
    powerfs.py selftest MOUNTPOINT   checks the rules below on a fresh mount (with cuts: nothing else may run)

The method of LazyFS. Programs see every write at once, as on a real disk with its page cache; what a power
cut keeps is only what was made durable:
- File data and size (writes, truncates, extensions) become durable when that file is fsynced or
  fdatasynced (both persist data and size; fdatasync's skipped timestamps are not modelled).
- Directory entries (create, unlink, rename, mkdir, rmdir) become durable when that directory is fsynced,
  all of that directory's entries at once. An fsync of a new file does not make its name durable (ext4
  happens to do that; POSIX does not promise it). A file whose name survives but whose data was never
  synced comes back empty.
- At the cut, every file's data and size and every directory's entries go back to their last synced state,
  and files no surviving name reaches are gone. Open file handles are forgotten: stop the programs using
  the filesystem first (a real cut stops them too).
Not modelled: torn or reordered writes within one unsynced page range (a cut keeps all or nothing of what
was written since the last sync: LazyFS's default too), a disk that lies about syncing, symlinks (refused),
link counts (always 1), timestamps and permissions (kept as they are, never lost), extended attributes.

STORE is the "disk": one pair of files per inode (`v<ino>` as programs see it, `d<ino>` as it survives).
The directory tree lives in this process's memory, so the disk lasts as long as the process. Requests are
served one at a time, so the cut never races a write.
"""
import errno
import os
import stat
import sys
import time

from fuse import FUSE, FuseOSError, Operations

PAGE = 4096
CONTROL = "/.powercut"
CONTROL_FH = 1 << 62
CHUNK = 1 << 20


def runs(pages):
    """Sorted page numbers -> (first, count) runs of consecutive pages."""
    out = []
    for p in sorted(pages):
        if out and out[-1][0] + out[-1][1] == p:
            out[-1][1] += 1
        else:
            out.append([p, 1])
    return out


def copy_pages(src, dst, pages, limit):
    """Copies the given pages of `src` below `limit` bytes into `dst`, in runs."""
    for first, count in runs(pages):
        start, end = first * PAGE, min((first + count) * PAGE, limit)
        while start < end:
            data = os.pread(src, min(CHUNK, end - start), start)
            if not data:
                break
            os.pwrite(dst, data, start)
            start += len(data)


class File:
    """A regular file: what programs see (`v`), what survives a cut (`d`), and what differs between them."""

    def __init__(self, store, ino, mode):
        self.ino, self.mode, self.is_dir = ino, mode, False
        self.paths = [os.path.join(store, f"{k}{ino}") for k in "vd"]
        self.v, self.d = (os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600) for p in self.paths)
        self.dirty = set()  # pages written since the last sync
        self.low = 0  # the smallest size since the last sync: the pages from there on differ too

    def size(self, fd=None):
        return os.fstat(self.v if fd is None else fd).st_size

    def write(self, data, offset):
        n = os.pwrite(self.v, data, offset)
        if n:
            self.dirty.update(range(offset // PAGE, (offset + n - 1) // PAGE + 1))
        return n

    def truncate(self, length):
        os.ftruncate(self.v, length)
        self.low = min(self.low, length)

    def _differing(self, limit):
        return {p for p in self.dirty if p * PAGE < limit} | set(range(self.low // PAGE, -(-limit // PAGE)))

    def sync(self):
        size = self.size()
        copy_pages(self.v, self.d, self._differing(size), size)
        os.ftruncate(self.d, size)
        self.dirty.clear()
        self.low = size

    def cut(self):
        """Back to the last synced state; returns the number of bytes thrown away (pages and growth)."""
        size, kept = self.size(), self.size(self.d)
        lost = len(self.dirty) * PAGE + max(0, size - kept)
        copy_pages(self.d, self.v, self._differing(kept), kept)
        os.ftruncate(self.v, kept)
        self.dirty.clear()
        self.low = kept
        return lost

    def close(self):
        for fd in (self.v, self.d):
            os.close(fd)
        for p in self.paths:
            os.unlink(p)


class Dir:
    def __init__(self, ino, mode):
        self.ino, self.mode, self.is_dir = ino, mode, True
        self.entries = {}  # name -> inode, as programs see them
        self.durable = {}  # as the last fsync of this directory left them

    def close(self):
        pass


class PowerFS(Operations):
    def __init__(self, store):
        self.store = store
        self.inodes = {1: Dir(1, 0o755)}
        self.next_ino = 2
        self.handles = {}
        self.next_fh = 1
        self.cuts = 0
        self.started = time.time()

    # --- names -------------------------------------------------------------------------------------------
    def lookup(self, path):
        node = self.inodes[1]
        for part in filter(None, path.split("/")):
            if not node.is_dir or part not in node.entries:
                raise FuseOSError(errno.ENOENT)
            node = self.inodes[node.entries[part]]
        return node

    def parent(self, path):
        head, name = os.path.split(path.rstrip("/"))
        node = self.lookup(head)
        if not node.is_dir:
            raise FuseOSError(errno.ENOTDIR)
        return node, name

    def node(self, path, fh=None):
        if fh is not None and fh in self.handles:
            return self.inodes[self.handles[fh]]
        return self.lookup(path)

    def new(self, path, mode, kind):
        parent, name = self.parent(path)
        if name in parent.entries:
            raise FuseOSError(errno.EEXIST)
        ino, self.next_ino = self.next_ino, self.next_ino + 1
        self.inodes[ino] = kind(ino, stat.S_IMODE(mode)) if kind is Dir else File(self.store, ino, stat.S_IMODE(mode))
        parent.entries[name] = ino
        return ino

    # --- the power cut -----------------------------------------------------------------------------------
    def cut(self):
        self.cuts += 1
        changed_dirs = sum(1 for n in self.inodes.values() if n.is_dir and n.entries != n.durable)
        for n in self.inodes.values():
            if n.is_dir:
                n.entries = dict(n.durable)
        reachable, todo = set(), [1]
        while todo:
            ino = todo.pop()
            if ino in reachable or ino not in self.inodes:
                continue
            reachable.add(ino)
            if self.inodes[ino].is_dir:
                todo.extend(self.inodes[ino].entries.values())
        lost, files = 0, 0
        for ino in list(self.inodes):
            n = self.inodes[ino]
            if ino not in reachable:
                lost += n.size() if not n.is_dir else 0
                n.close()
                del self.inodes[ino]
            elif not n.is_dir:
                gone = n.cut()
                lost += gone
                files += gone > 0
        self.handles.clear()
        print(f"powerfs: cut {self.cuts}: threw away {lost} unsynced bytes in {files} files and the unsynced "
              f"entries of {changed_dirs} directories", flush=True)

    # --- operations --------------------------------------------------------------------------------------
    def getattr(self, path, fh=None):
        now = time.time()
        if path == CONTROL:
            return dict(st_mode=stat.S_IFREG | 0o200, st_nlink=1, st_size=0, st_mtime=now, st_atime=now,
                        st_ctime=now, st_uid=os.getuid(), st_gid=os.getgid())
        n = self.node(path, fh)
        common = dict(st_uid=os.getuid(), st_gid=os.getgid())
        if n.is_dir:
            t = self.started
            return dict(st_mode=stat.S_IFDIR | n.mode, st_nlink=2, st_size=4096, st_mtime=t, st_atime=t,
                        st_ctime=t, **common)
        s = os.fstat(n.v)
        return dict(st_mode=stat.S_IFREG | n.mode, st_nlink=1, st_size=s.st_size, st_blocks=s.st_blocks,
                    st_mtime=s.st_mtime, st_atime=s.st_atime, st_ctime=s.st_ctime, **common)

    def readdir(self, path, fh):
        n = self.lookup(path)
        if not n.is_dir:
            raise FuseOSError(errno.ENOTDIR)
        return [".", ".."] + list(n.entries)

    def mkdir(self, path, mode):
        self.new(path, mode, Dir)

    def rmdir(self, path):
        parent, name = self.parent(path)
        n = self.lookup(path)
        if not n.is_dir:
            raise FuseOSError(errno.ENOTDIR)
        if n.entries:
            raise FuseOSError(errno.ENOTEMPTY)
        del parent.entries[name]

    def create(self, path, mode, fi=None):
        ino = self.new(path, mode, File)
        return self.handle(ino)

    def handle(self, ino):
        fh, self.next_fh = self.next_fh, self.next_fh + 1
        self.handles[fh] = ino
        return fh

    def open(self, path, flags):
        if path == CONTROL:
            return CONTROL_FH
        n = self.lookup(path)
        if n.is_dir:
            raise FuseOSError(errno.EISDIR)
        return self.handle(n.ino)

    def release(self, path, fh):
        self.handles.pop(fh, None)

    def flush(self, path, fh):
        return 0

    def read(self, path, size, offset, fh):
        return os.pread(self.node(path, fh).v, size, offset)

    def write(self, path, data, offset, fh):
        if fh == CONTROL_FH:
            self.cut()
            return len(data)
        return self.node(path, fh).write(data, offset)

    def truncate(self, path, length, fh=None):
        if path == CONTROL:
            return
        n = self.node(path, fh)
        if n.is_dir:
            raise FuseOSError(errno.EISDIR)
        n.truncate(length)

    def fsync(self, path, datasync, fh):
        self.node(path, fh).sync()

    def fsyncdir(self, path, datasync, fh):
        n = self.lookup(path)
        n.durable = dict(n.entries)

    def unlink(self, path):
        parent, name = self.parent(path)
        if name not in parent.entries:
            raise FuseOSError(errno.ENOENT)
        if self.inodes[parent.entries[name]].is_dir:
            raise FuseOSError(errno.EISDIR)
        del parent.entries[name]

    def rename(self, old, new):
        src, a = self.parent(old)
        dst, b = self.parent(new)
        if a not in src.entries:
            raise FuseOSError(errno.ENOENT)
        moving = self.inodes[src.entries[a]]
        if b in dst.entries:
            there = self.inodes[dst.entries[b]]
            if there.is_dir and (not moving.is_dir or there.entries):
                raise FuseOSError(errno.EISDIR if not moving.is_dir else errno.ENOTEMPTY)
        dst.entries[b] = src.entries.pop(a)

    def link(self, target, source):
        """A second name `target` for the file `source` (tempfile's no-clobber rename links, then unlinks)."""
        n = self.lookup(source)
        if n.is_dir:
            raise FuseOSError(errno.EPERM)
        parent, name = self.parent(target)
        if name in parent.entries:
            raise FuseOSError(errno.EEXIST)
        parent.entries[name] = n.ino

    def chmod(self, path, mode):
        self.lookup(path).mode = stat.S_IMODE(mode)

    def chown(self, path, uid, gid):
        return 0

    def utimens(self, path, times=None):
        if path != CONTROL:
            n = self.lookup(path)
            if not n.is_dir:
                os.utime(n.v, times)

    def access(self, path, amode):
        self.lookup(path) if path != CONTROL else None
        return 0

    def statfs(self, path):
        s = os.statvfs(self.store)
        return {k: getattr(s, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree",
                                            "f_files", "f_flag", "f_frsize", "f_namemax")}


def selftest(mnt):
    """Checks the model on a mounted powerfs: what a cut keeps and what it throws away."""
    def cut():
        with open(os.path.join(mnt, ".powercut"), "w") as f:
            f.write("cut")

    def put(name, data, sync_file=False):
        fd = os.open(os.path.join(mnt, name), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, data)
        if sync_file:
            os.fsync(fd)
        os.close(fd)

    def sync_dir(name=""):
        fd = os.open(os.path.join(mnt, name), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    def read(name):
        path = os.path.join(mnt, name)
        return open(path, "rb").read() if os.path.exists(path) else None

    checks = []
    put("synced", b"kept", sync_file=True)
    put("unsynced", b"lost")
    os.mkdir(os.path.join(mnt, "sub"))
    sync_dir()
    put("synced", b"KEPT, then changed")
    put("never-named", b"x", sync_file=True)
    os.rename(os.path.join(mnt, "unsynced"), os.path.join(mnt, "renamed"))
    put("sub/inner", b"data", sync_file=True)
    cut()
    checks += [("synced data survives, unsynced overwrite does not", read("synced") == b"kept"),
               ("a named file whose data was never synced comes back empty", read("unsynced") == b""),
               ("an unsynced rename is undone", read("renamed") is None),
               ("a file created after the folder's last fsync is gone", read("never-named") is None),
               ("a name needs its own folder's fsync", read("sub/inner") is None)]
    fd = os.open(os.path.join(mnt, "synced"), os.O_RDWR)
    os.ftruncate(fd, 1)
    os.pwrite(fd, b"z", 100000)
    os.close(fd)
    os.unlink(os.path.join(mnt, "unsynced"))
    cut()
    checks += [("an unsynced truncate and extension are undone", read("synced") == b"kept"),
               ("an unsynced unlink is undone", read("unsynced") == b"")]
    fd = os.open(os.path.join(mnt, "synced"), os.O_RDWR)
    os.pwrite(fd, b"K", 0)
    os.fdatasync(fd)
    os.close(fd)
    cut()
    checks.append(("fdatasync keeps data", read("synced") == b"Kept"))
    for name in ("synced", "unsynced"):
        os.unlink(os.path.join(mnt, name))
    os.rmdir(os.path.join(mnt, "sub"))
    sync_dir()
    failed = [what for what, ok in checks if not ok]
    for what, ok in checks:
        print(f"powerfs self-test: {'ok  ' if ok else 'FAIL'} {what}")
    return 1 if failed else 0


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    if sys.argv[1] == "selftest":
        sys.exit(selftest(sys.argv[2]))
    store, mountpoint = sys.argv[1], sys.argv[2]
    os.makedirs(store, exist_ok=True)
    # No kernel caching of names or sizes: after a cut they must come from here, not from before it.
    FUSE(PowerFS(store), mountpoint, foreground=True, nothreads=True, attr_timeout=0, entry_timeout=0,
         negative_timeout=0, big_writes=True, max_write=131072, fsname="powerfs")


if __name__ == "__main__":
    main()
