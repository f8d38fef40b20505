"""The server's memory for uploads: one budget (``AE_MAX_UPLOAD_MEMORY_BYTES``) for the decoded image sets that every
session holds at once.

An upload is counted from the moment it is admitted until its arrays are freed: each admitted array carries a
``weakref.finalize`` that gives its bytes back, so whatever lets go of an upload (a new upload replacing it, a closed
tab's session state released after its timeout, a workspace restored and then dropped) returns its share without
anyone having to remember to. Decoding is done one upload at a time (``decoding()``), each within the room left in
the budget: the readers refuse an image set that would not fit from its headers, before its pixels are decoded. So
the server holds at most the budget, and beyond it only the copy that the one upload decoding now makes while it is
split into training and validation.
"""

import threading
import weakref
from collections import deque
from contextlib import contextmanager

import numpy as np

from ae_core.data import DecodedLimit, load_upload
from ae_core.data.split import Dataset
from ae_core.settings import limits
from ae_core.units import human_size

BUDGET_ENV = limits.Limits.variable("max_upload_memory_bytes")
WHAT_TO_DO = (
    "Upload fewer or smaller images, or try again in a few minutes: an upload's memory comes back once its tab has "
    "been closed for a few minutes."
)


def dataset_bytes(dataset: Dataset) -> int:
    """The bytes of ``dataset``'s arrays: images and labels of both splits."""
    return sum(array.nbytes for array in _arrays(dataset))


class UploadMemory:
    """The ledger of uploads held in memory against the budget. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._decoding = threading.Lock()
        self._held: dict[int, int] = {}  # id of an admitted array -> its bytes, until the array is freed
        # ids of freed arrays, taken off ``_held`` under the lock: a finalizer may run in the middle of any code,
        # this ledger's own included, so it only appends (thread-safe) and never takes the lock
        self._freed: deque[int] = deque()

    def _held_bytes(self) -> int:
        """Bytes held now; call with the lock held."""
        while self._freed:
            self._held.pop(self._freed.popleft(), None)
        return sum(self._held.values())

    def used(self) -> int:
        """Bytes of the admitted uploads' arrays still alive."""
        with self._lock:
            return self._held_bytes()

    def check_room(self, what: str, replacing: Dataset | None = None) -> DecodedLimit:
        """The room left in the budget, not counting ``replacing``, as the limit to decode ``what`` (e.g. "a.zip")
        within; ValueError when the budget is used up."""
        with self._lock:
            used = self._held_bytes()
            held = used - self._bytes_of(replacing)
        budget = limits.current().max_upload_memory_bytes
        if held >= budget:
            raise ValueError(_refusal(what, used, None))
        return DecodedLimit(
            budget - held,
            f"the {human_size(budget - held)} left of the server's {human_size(budget)} memory for uploads "
            f"({BUDGET_ENV}; other uploads open now hold {human_size(held)})",
            WHAT_TO_DO,
        )

    def _bytes_of(self, dataset: Dataset | None) -> int:
        """Bytes counted for ``dataset``'s arrays; call with the lock held."""
        return 0 if dataset is None else sum(self._held.get(id(array), 0) for array in _arrays(dataset))

    def admit(self, dataset: Dataset, what: str, replacing: Dataset | None = None) -> Dataset:
        """Count ``dataset`` (``what``, e.g. its file name) against the budget until its arrays are freed; ValueError
        when it does not fit. ``replacing``: the upload it replaces, whose bytes are given back at once."""
        with self._lock:
            used = self._held_bytes()  # first: a freed array's id may be a new array's now
            freed, needed = self._bytes_of(replacing), dataset_bytes(dataset) - self._bytes_of(dataset)
            if used - freed + needed > limits.current().max_upload_memory_bytes:
                raise ValueError(_refusal(what, used, dataset_bytes(dataset)))
            for array in _arrays(dataset):
                if id(array) not in self._held:
                    self._held[id(array)] = array.nbytes
                    weakref.finalize(array, self._forget, id(array))
        return dataset

    def _forget(self, array_id: int) -> None:
        self._freed.append(array_id)

    @contextmanager
    def decoding(self):
        """Hold while decoding an upload: one decode at a time on the server."""
        with self._decoding:
            yield


# The server's one ledger: memory is the process's, whichever session or workspace holds an upload.
SERVER_UPLOADS = UploadMemory()


def decode_upload(
    files: list[tuple[str, bytes]], replacing: Dataset | None = None, memory: UploadMemory = SERVER_UPLOADS
) -> Dataset:
    """Decode an upload ((file name, content) pairs, as ``ae_core.data.load_upload`` takes them) one at a time on the
    server, and count it against ``memory`` until its arrays are freed. ``replacing``: the upload it replaces.
    Raises DataFileError or ValueError, saying why, for files that cannot be read or when the budget has no room;
    nothing is held then. An image set larger than the room left in the budget is refused by the readers, from its
    headers, before its pixels are decoded."""
    what = ", ".join(name for name, _ in files)
    memory.check_room(what, replacing)  # at once, without waiting for another upload's decoding
    with memory.decoding():
        room = memory.check_room(what, replacing)  # the uploads decoded meanwhile may have used some
        return memory.admit(load_upload(files, decoded_limit=room), what, replacing=replacing)


def _refusal(what: str, used: int, needed: int | None) -> str:
    """What was expected (room in the budget), what was found (what is used, what ``what`` needs), what to do."""
    budget = limits.current().max_upload_memory_bytes
    size = "" if needed is None else f", and {what} decodes to {human_size(needed)}"
    return (
        f"The server's memory for uploads is in use: the uploads open now hold {human_size(used)} of its "
        f"{human_size(budget)} budget ({BUDGET_ENV}){size}, so {what} was not loaded. {WHAT_TO_DO}"
    )


def _arrays(dataset: Dataset) -> list[np.ndarray]:
    return [array for array in (dataset.x_train, dataset.x_val, dataset.y_train, dataset.y_val) if array is not None]
