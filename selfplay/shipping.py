"""Files that travel to workers by content: checkpoints a task or a player names, on a cluster with no shared disk.

A task names the files its worker needs with :class:`FileRef` (a checkpoint) or :class:`FolderRef` (a run
folder: the checkpoints a player loads from it). On this machine's farm they are plain paths: ``local()`` returns
the path itself. A cluster farm (``selfplay.ray_farm``) calls :func:`ship` on the work and on every task before
dealing them: each file's bytes go into the cluster's object store once, keyed by their SHA-256, and the refs
carry the object's handle. On the worker, ``local()`` writes the bytes once into a cache folder named by the
digest (``MINIGO_CACHE``, default ``~/.cache/minigo/shipped``) and returns that path, so ``checkpoint.load``
reads it as it would read the original; a rewritten checkpoint has a new digest, so a worker never keeps stale
weights.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from minigo.atomic import write_atomic
from models.run_layout import RunLayout

__all__ = ["FileRef", "FolderRef", "cache_folder", "ship"]

Put = Callable[[bytes], Any]
"""Puts bytes into a cluster's object store; returns the handle a worker gets them back with."""
Get = Callable[[Any], bytes]


def cache_folder() -> Path:
    """Where workers keep shipped files: ``$MINIGO_CACHE`` or ``~/.cache/minigo/shipped``."""
    return Path(os.environ.get("MINIGO_CACHE") or Path.home() / ".cache" / "minigo" / "shipped")


@dataclasses.dataclass(frozen=True)
class FileRef:
    """A file a worker reads: its path on the parent's machine and, once shipped, its content's digest and handle."""

    path: str
    digest: str = ""
    """SHA-256 of the content (hex); empty until shipped."""
    blob: Any = dataclasses.field(default=None, compare=False)
    """The object-store handle of the bytes; None: read ``path`` (a worker on the parent's machine)."""

    def local(self, get: Get | None = None) -> str:
        """A path on this machine holding the file's content (its own path when not shipped)."""
        if self.blob is None:
            return self.path
        target = cache_folder() / self.digest[:32] / Path(self.path).name
        if not target.is_file():
            data = (get or _ray_get)(self.blob)
            if hashlib.sha256(data).hexdigest() != self.digest:
                raise OSError(f"{self.path}: the shipped bytes do not match their digest")
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
        return str(target)

    def stamp(self) -> str:
        """What changes when the content does: the digest when shipped, else the file's modification time."""
        return self.digest or str(Path(self.path).stat().st_mtime_ns)


@dataclasses.dataclass(frozen=True)
class FolderRef:
    """A run folder a player loads: the checkpoints in it (``RunLayout.shippable``, or the files ``names``),
    shipped one by one."""

    path: str
    names: tuple[str, ...] = ()
    """Paths inside the folder to ship (those that exist); empty: the run's checkpoints (``RunLayout.shippable``)."""
    files: tuple[tuple[str, FileRef], ...] = ()
    """``(path inside the folder, ref)``; empty until shipped."""

    def local(self, get: Get | None = None) -> str:
        """A folder on this machine laid out like the run folder, holding the shipped checkpoints."""
        if not self.files:
            return self.path
        key = hashlib.sha256("\n".join(f"{name} {ref.digest}" for name, ref in self.files).encode()).hexdigest()
        folder = cache_folder() / "runs" / key[:32]
        for name, ref in self.files:
            target = folder / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                source = Path(ref.local(get))
                try:
                    os.link(source, target)
                except FileExistsError:
                    pass
                except OSError:  # another filesystem
                    write_atomic(target, source.read_bytes())
        return str(folder)


def _ray_get(handle: Any) -> bytes:
    import ray

    return ray.get(handle)


def ship(value: Any, put: Put, shipped: dict[str, FileRef] | None = None) -> Any:
    """``value`` with every FileRef and FolderRef in it (through dataclasses, dicts, tuples, lists and
    ``functools.partial``) given its content's digest and an object-store handle from ``put``; ``shipped``
    (digest -> ref) remembers what is already in the store, so each content is put once."""
    shipped = {} if shipped is None else shipped
    if isinstance(value, FileRef):
        if value.blob is not None:
            return value
        data = Path(value.path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in shipped:
            shipped[digest] = FileRef(value.path, digest, put(data))
        return FileRef(value.path, digest, shipped[digest].blob)
    if isinstance(value, FolderRef):
        if value.files:
            return value
        root = Path(value.path)
        paths = ([root / name for name in value.names if (root / name).is_file()] if value.names
                 else RunLayout(root).shippable())
        files = tuple((str(p.relative_to(root)), ship(FileRef(str(p)), put, shipped)) for p in paths)
        return FolderRef(value.path, value.names, files)
    if isinstance(value, functools.partial):
        return functools.partial(ship(value.func, put, shipped), *ship(value.args, put, shipped),
                                 **ship(value.keywords, put, shipped))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: ship(getattr(value, f.name), put, shipped) for f in dataclasses.fields(value) if f.init}
        if all(changes[name] is getattr(value, name) for name in changes):
            return value
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        out = {key: ship(item, put, shipped) for key, item in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    if isinstance(value, (tuple, list)):
        items = [ship(item, put, shipped) for item in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items) if isinstance(value, list) or type(value) is tuple else type(value)(*items)
    return value
