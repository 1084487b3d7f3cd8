# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled core of kimi-fann: thin owners of the C objects, no numpy required.

Arrays travel through the buffer protocol (typed memoryviews): float32, C-contiguous. Shapes are
checked here before the GIL is released around the C call; the C core checks them again and
its status codes become the exceptions below (re-exported by :mod:`kimi_fann.errors`), through
one table. Three helpers carry what every call repeats: ``run_checked`` (allocate the scratch a
model asks for, release the GIL, run, free, check; large batches in chunks on the helper
threads of ``Pool``), ``fast`` (the fast path of run and route:
a float32 buffer straight into C) and ``path_number`` (a SIMD path name into its number). The
core's constants (status codes, limits, SIMD path names) are read from the C library, never
retyped.
"""

from libc.stdint cimport uint8_t, int16_t, uint32_t, uint64_t, int32_t, uintptr_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from libc.math cimport isfinite, rint
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS, PyBUF_FORMAT
from cpython.pythread cimport PyThread_get_thread_ident
cimport cython


# ---- exceptions: the classes of kimi_fann.errors, and the one table from status codes ----

class KimiFannError(Exception):
    """Base class of every kimi-fann error.

    Attributes
    ----------
    status : int
        The C core's status code (0 when the error was detected in Python).
    """

    status: int = 0

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class FormatError(KimiFannError, ValueError):
    """A file or text is malformed; the message names the file and line."""


class ShapeError(KimiFannError, ValueError):
    """Input arrays do not fit the model: a shape, a size or a dtype that does not match it or
    each other, or integer inputs outside the model's input range."""


class ConfigError(KimiFannError, ValueError):
    """A parameter or argument is out of its range or of the wrong kind, or a request does not
    fit this network."""


class NumericError(KimiFannError, ValueError):
    """NaN or infinity where a finite number is required, or a range that is empty.

    Attributes
    ----------
    row : int or None
        The row of the batch where a run met the NaN or infinity, when it was a run.
    """

    row: int | None = None
    _parts: tuple[str, str] = ("", "")

    def with_row_offset(self, offset: int) -> NumericError:
        """The same error for the batch that this one's batch started at row ``offset`` of
        (itself when it names no row)."""
        if self.row is None:
            return self
        return row_error(self._parts[0], self.row + offset, self._parts[1])


def row_error(str what, Py_ssize_t row, str detail):
    """The NumericError of a run that met NaN or infinity in a row of its batch (raised by the
    caller); ``what`` and ``detail`` are kept so that a split batch can renumber the row.

    Examples
    --------
    >>> from kimi_fann._core import row_error
    >>> exc = row_error("cannot run the network", 3, "the output is not finite")
    >>> str(exc), exc.row
    ('cannot run the network: row 3: the output is not finite', 3)
    >>> str(exc.with_row_offset(100))
    'cannot run the network: row 103: the output is not finite'
    """
    exc = NumericError(f"{what}: row {row}: {detail}", status=KF_E_NUMERIC)
    exc.row = row
    exc._parts = (what, detail)
    return exc


class LimitError(KimiFannError, ValueError):
    """A size beyond the library's limits (too many neurons, connections or values)."""


class FileError(KimiFannError, OSError):
    """A file cannot be read or written."""


for _cls in (KimiFannError, FormatError, ShapeError, ConfigError, NumericError, LimitError, FileError):
    _cls.__module__ = "kimi_fann.errors"  # where users import them from (and pickles find them)

# Status code (kf_status of kfann.h) -> exception class: the rule of each condition.
ERRORS = {
    KF_E_NOMEM: MemoryError,
    KF_E_ARG: ConfigError,         # an argument or parameter out of its range, or of the wrong kind
    KF_E_SHAPE: ShapeError,        # input arrays that do not fit the model (sizes, dtype, input range)
    KF_E_FORMAT: FormatError,      # a malformed file or text
    KF_E_NUMERIC: NumericError,    # NaN or infinity where a finite number is required
    KF_E_UNSUPPORTED: ConfigError,  # a valid request this model cannot serve
    KF_E_LIMIT: LimitError,        # a size beyond the library's caps
}


def error_for_status(int status, str message):
    """Return the exception for a C status code (``MemoryError`` for KF_E_NOMEM).

    Parameters
    ----------
    status : int
        A negative ``kf_status`` of the C core.
    message : str

    Returns
    -------
    Exception
        Not raised: the caller raises it.

    Examples
    --------
    >>> from kimi_fann.errors import error_for_status
    >>> exc = error_for_status(-3, "3 columns, expected 4")
    >>> type(exc).__name__, exc.status
    ('ShapeError', -3)
    """
    cls = ERRORS.get(status, KimiFannError)
    if cls is MemoryError:
        return MemoryError(message)
    return cls(message, status=status)


# ---- the core's constants, names and limits ----

cdef dict read_constants():
    cdef uint32_t count = 0, i
    cdef const kf_constant *table = kf_constants(&count)
    return {table[i].name.decode(): int(table[i].value) for i in range(count)}


#: Every constant of kfann.h a binding needs (status codes, limits, enum counts), by name.
CONSTANTS = read_constants()
STATUS_COUNT = KF_STATUS_COUNT_
ACTIVATION_COUNT = KF_ACTIVATION_COUNT_
#: The most rows a call that leaves threads to the library (None) runs on one thread; a larger
#: batch is split between the cores, FAST_ROWS / 2 rows or more each (thread_count).
FAST_ROWS = 1024


def status_str(int status):
    """The C core's description of a status code."""
    return kf_status_str(<kf_status>status).decode()


def activation_names():
    """Names of the activation functions, indexed by their FANN enum value."""
    return [kf_activation_name(<kf_activation>i).decode() for i in range(KF_ACTIVATION_COUNT_)]


def fixed_activation_supported(int activation):
    """Whether libfixedfann computes this activation in fixed point (FANN_FIX_2.0 networks)."""
    return 0 <= activation < KF_ACTIVATION_COUNT_ and bool(kf_fixnet_activation_supported(<kf_activation>activation))


def param_names():
    """Names of the training parameters, indexed by kf_param."""
    return [kf_param_name(<kf_param>i).decode() for i in range(KF_PARAM_COUNT_)]


def apply_activation(int activation, float[::1] values):
    """Apply one activation function in place, as a neuron computes it (values = steepness * sum)."""
    cdef Py_ssize_t i
    if activation < 0 or activation >= KF_ACTIVATION_COUNT_:
        raise error_for_status(KF_E_ARG, f"activation {activation} is not one of 0..{KF_ACTIVATION_COUNT_ - 1}")
    with nogil:
        for i in range(values.shape[0]):
            values[i] = kf_activation_apply(<kf_activation>activation, values[i])


cdef int check(kf_status st, str what) except -1:
    if st != KF_OK:
        raise error_for_status(st, f"{what}: {kf_status_str(st).decode()}")
    return 0


cdef int check_diag(kf_status st, kf_diag *diag, str what) except -1:
    """check() with the reason a constructor or parser left in diag (cleared by the core on
    entry: empty when the status code is the whole reason)."""
    if st == KF_OK:
        return 0
    where = f"{what}, line {diag.line}" if diag.line else what
    reason = diag.message.decode(errors="replace") if diag.message[0] else kf_status_str(st).decode()
    raise error_for_status(st, f"{where}: {reason}")


cdef bytes take_text(char *text, size_t length):
    try:
        return text[:length]
    finally:
        kf_free(text)


cdef kf_data data_view(const float[:, ::1] X, const float[:, ::1] Y) noexcept:
    """A kf_data over two 2-D buffers (Y may have zero columns)."""
    cdef kf_data d
    d.num_data = <uint32_t>X.shape[0]
    d.num_input = <uint32_t>X.shape[1]
    d.num_output = <uint32_t>Y.shape[1]
    d.input = <float *>&X[0, 0] if X.shape[0] * X.shape[1] > 0 else NULL
    d.output = <float *>&Y[0, 0] if Y.shape[0] * Y.shape[1] > 0 else NULL
    return d


cdef int check_pairs(const float[:, ::1] X, const float[:, ::1] Y) except -1:
    if X.shape[0] != Y.shape[0]:
        raise ShapeError(f"inputs have {X.shape[0]} rows but outputs have {Y.shape[0]}")
    if X.shape[0] > 0xFFFFFFFF or X.shape[1] > 0xFFFFFFFF or Y.shape[1] > 0xFFFFFFFF:
        raise error_for_status(KF_E_LIMIT, "data set too large")
    return 0


cdef int check_rows(Py_ssize_t rows_x, Py_ssize_t cols_x, Py_ssize_t rows_y, Py_ssize_t cols_y, uint32_t n_in,
                    uint32_t n_out) except -1:
    if cols_x != n_in or cols_y != n_out or rows_x != rows_y:
        raise ShapeError(f"expected inputs (n, {n_in}) and outputs (n, {n_out}), "
                         f"got ({rows_x}, {cols_x}) and ({rows_y}, {cols_y})")
    return 0


# ---- one writer or many runs: the readers-writer lock of a model that can change ----

cdef object _Condition = None


@cython.auto_pickle(False)  # a lock: each model makes its own
cdef class Guard:
    """A readers-writer lock for one model that can change (a float network, a router).

    Runs take it shared and compute with the GIL released; mutators (training, assigning
    weights, bias, scaling or parameters) take it exclusively: a mutator waits for the runs in
    progress, and runs that start while a mutator waits or works wait for it, so that no run
    ever sees half of a change. A thread holding it exclusively may take it again (nested
    mutators) and may run the model; a thread inside reading() may read and run again. Every
    counter changes with the GIL held, so the common case (nobody waiting) is a few integer
    operations; waiting goes through a threading.Condition made on first use.

    Examples
    --------
    >>> from kimi_fann._core import Guard
    >>> g = Guard()
    >>> with g.writing(), g.writing():  # nested holds in one thread
    ...     g.state()
    (0, 2, 0)
    >>> g.state()
    (0, 0, 0)
    """

    cdef bint can(self, bint write) noexcept:
        if write:
            return self.readers == 0 and self.depth == 0
        if self.depth > 0:
            return self.owner == PyThread_get_thread_ident()
        # behind a waiting writer, unless this thread holds reading() already (nested reads)
        return self.writers_waiting == 0 or (self.holders is not None
                                             and PyThread_get_thread_ident() in self.holders)

    cdef void take(self, bint write) noexcept:
        if not write:
            self.readers += 1
        elif self.depth > 0:
            self.depth += 1  # the owner again (can() let it through)
        else:
            self.depth = 1
            self.owner = PyThread_get_thread_ident()

    cdef int acquire(self, bint write) except -1:
        if write and self.depth > 0 and self.owner == PyThread_get_thread_ident():
            self.depth += 1
            return 0
        if self.can(write):
            self.take(write)
            return 0
        return self.wait_for(write, True)

    cdef int release(self, bint write) except -1:
        if write:
            self.depth -= 1
        else:
            self.readers -= 1
        if self.sleepers and (self.depth == 0 if write else self.readers == 0):
            with self.cond:
                self.cond.notify_all()
        return 0

    cdef int wait_for(self, bint write, bint take) except -1:
        """Sleep until can(write), then take the lock when asked. The state is checked with the
        condition's lock held and changed only with the GIL held, and release() notifies through
        the same lock whenever a sleeper is registered, so no wake-up is lost."""
        global _Condition
        if _Condition is None:
            from threading import Condition
            _Condition = Condition
        if self.cond is None:
            self.cond = _Condition()
        cond = self.cond
        self.sleepers += 1
        if write:
            self.writers_waiting += 1
        try:
            with cond:
                while not self.can(write):
                    cond.wait()
                if write:  # no longer waiting: readers behind it may only pass once it is done
                    self.writers_waiting -= 1
                    write = False
                    if take:
                        self.take(True)
                elif take:
                    self.take(False)
        finally:
            self.sleepers -= 1
            if write:  # interrupted while waiting: readers held back by it may go on
                self.writers_waiting -= 1
                if self.sleepers:
                    with cond:
                        cond.notify_all()
        return 0

    cdef int readable(self) except -1:
        """Wait while another thread changes the model: for reads that keep the GIL throughout
        (accessors), which no mutator can start in the middle of."""
        if self.depth > 0 and self.owner != PyThread_get_thread_ident():
            self.wait_for(False, False)
        return 0

    def reading(self):
        """A context manager holding the lock shared (several reads that must agree)."""
        return Hold(self, False)

    def writing(self):
        """A context manager holding the lock exclusively (a change made of several calls)."""
        return Hold(self, True)

    def state(self):
        """(runs in progress, writer's nesting depth, writers waiting), for tests."""
        return self.readers, self.depth, self.writers_waiting


cdef class Hold:
    """The context manager of Guard.reading() and Guard.writing()."""
    cdef Guard guard
    cdef bint write

    def __cinit__(self, Guard guard not None, bint write):
        self.guard = guard
        self.write = write

    def __enter__(self):
        cdef unsigned long me
        self.guard.acquire(self.write)
        if not self.write:  # a reader thread, known by name so that it may read again inside
            me = PyThread_get_thread_ident()
            if self.guard.holders is None:
                self.guard.holders = {}
            self.guard.holders[me] = self.guard.holders.get(me, 0) + 1
        return self

    def __exit__(self, *exc):
        cdef unsigned long me
        if not self.write:
            me = PyThread_get_thread_ident()
            left = self.guard.holders[me] - 1
            if left:
                self.guard.holders[me] = left
            else:
                del self.guard.holders[me]
        self.guard.release(self.write)
        return False


cdef int read_all(tuple guards) except -1:
    """Take every guard shared, all at once: when one is blocked, give back those taken and wait
    for it holding none, so that a mixture never holds a part while it waits for another (no
    deadlock with a writer)."""
    cdef Py_ssize_t i, j, n = len(guards)
    cdef Guard g
    while True:
        for i in range(n):
            g = <Guard>guards[i]
            if not g.can(False):
                break
            g.readers += 1
        else:
            return 0
        for j in range(i):
            (<Guard>guards[j]).release(False)
        g.wait_for(False, False)


cdef int release_all(tuple guards) except -1:
    cdef Py_ssize_t i
    for i in range(len(guards)):
        (<Guard>guards[i]).release(False)
    return 0


# ---- running: one helper allocates the scratch a model asks for, runs and frees ----

cdef struct call:
    kf_simd path
    const float *fx       # the inputs when they are floats (to find the row of a NaN), else NULL
    uint32_t fx_cols
    const float *fy       # the float outputs to check for NaN and infinity, else NULL
    uint32_t fy_cols
    const void *x         # inputs, n rows
    uint64_t n
    void *y               # outputs (the router's: experts)
    void *y2              # the router's weights; the mixture's experts
    void *y3              # the router's load; the mixture's weights
    const kf_data *data   # kf_net_test's pairs
    kf_epoch_stats *stats
    # Bytes per row of x, y, y2 and y3 (0: not split by rows), and of y3 per chunk (the
    # router's load: one array of counters per chunk of a split batch, added up after).
    uint32_t x_row, y_row, y2_row, y3_row
    uint64_t y3_chunk

ctypedef uint64_t (*scratch_fn)(const void *model, uint64_t n) noexcept nogil
ctypedef kf_status (*run_fn)(const void *model, const call *c, void *scratch, uint64_t bytes) noexcept nogil


cdef kf_status with_scratch(const void *model, scratch_fn size, run_fn run, const call *c) noexcept nogil:
    cdef uint64_t bytes = size(model, c.n)
    cdef void *scratch
    cdef kf_status st
    if bytes > <uint64_t>(<size_t>-1):
        return KF_E_LIMIT
    scratch = malloc(<size_t>bytes if bytes else 1)
    if scratch == NULL:
        return KF_E_NOMEM
    st = run(model, c, scratch, bytes)
    free(scratch)
    return st


cdef inline uint32_t magnitude_bits(const float *v) noexcept nogil:
    """A float's bits without its sign: at or above infinity's (0x7f800000) for NaN and
    infinity, below for every finite value."""
    cdef uint32_t bits
    memcpy(&bits, v, sizeof(bits))
    return bits & 0x7fffffffu


cdef Py_ssize_t first_bad_row(const float *v, uint64_t rows, uint32_t cols) noexcept nogil:
    """The first row of a rows x cols float array holding NaN or infinity, or -1. Adding
    0x00800000 to a value's magnitude bits carries into the top bit exactly when they are at or
    above infinity's, so one pass ORs those sums together: integer adds and ORs, which the
    compiler vectorizes on any instruction set (a float sum would be one chain of dependent
    additions). Only a batch that fails is searched row by row."""
    cdef uint64_t i, total = rows * cols
    cdef uint32_t carries = 0
    for i in range(total):
        carries |= magnitude_bits(v + i) + 0x00800000u
    if not (carries & 0x80000000u):
        return -1
    for i in range(total):
        if magnitude_bits(v + i) >= 0x7f800000u:
            return <Py_ssize_t>(i // cols)
    return -1


def first_nonfinite_row(const float[:, ::1] values):
    """The first row of a float32 matrix holding NaN or infinity, or -1: the binding's own check
    of inputs and outputs (an integer pass over the values' bits, with the GIL released for
    large arrays), for the checks made in Python.

    Examples
    --------
    >>> import numpy as np
    >>> from kimi_fann._core import first_nonfinite_row
    >>> x = np.zeros((3, 2), np.float32)
    >>> first_nonfinite_row(x)
    -1
    >>> x[2, 1] = np.nan
    >>> first_nonfinite_row(x)
    2
    """
    if values.shape[0] == 0 or values.shape[1] == 0:
        return -1
    return bad_row(&values[0, 0], values.shape[0], values.shape[1])


cdef Py_ssize_t bad_row(const float *v, uint64_t rows, uint32_t cols) noexcept:
    """first_bad_row, with the GIL released for a large array only (releasing it costs more
    than checking a sample's outputs)."""
    cdef Py_ssize_t row
    if rows * cols < 16384:
        return first_bad_row(v, rows, cols)
    with nogil:
        row = first_bad_row(v, rows, cols)
    return row


#: What a non-finite output of a float model means, and what to do.
OVERFLOW = ("the output is NaN or infinite: a sum inside the model overflowed float32 (inputs or weights too large; "
            "scale the inputs, see Network.set_scaling)")


cdef Py_ssize_t failing_row(const void *model, scratch_fn size, run_fn run, const call *c) noexcept nogil:
    """The first row that the model refuses as non-finite when run alone (finite inputs whose
    sums overflow inside the core), or -1: the error path only. The failed call's outputs are
    undefined anyway; each row writes the first row of them."""
    cdef call one = c[0]
    cdef uint64_t i
    one.n = 1
    for i in range(c.n):
        one.x = c.fx + i * c.fx_cols
        if with_scratch(model, size, run, &one) == KF_E_NUMERIC:
            return <Py_ssize_t>i
    return -1


cdef int check_run(kf_status st, const void *model, scratch_fn size, run_fn run, const call *c,
                   str what) except -1:
    """check() for a run: a NaN or infinity in the inputs or the outputs, or a sum that
    overflowed float32, raises NumericError naming its row (the row of the batch given to this
    call)."""
    cdef Py_ssize_t row
    if st == KF_E_NUMERIC and c.fx != NULL:
        row = bad_row(c.fx, c.n, c.fx_cols)
        if row >= 0:
            raise row_error(what, row, "the input holds NaN or infinity")
        with nogil:
            row = failing_row(model, size, run, c)
        if row >= 0:
            raise row_error(what, row, OVERFLOW)
    check(st, what)
    if c.fy != NULL and c.n > 0:
        row = bad_row(c.fy, c.n, c.fy_cols)
        if row >= 0:
            raise row_error(what, row, OVERFLOW)
    return 0


cdef int run_checked(const void *model, scratch_fn size, run_fn run, call *c, str what, tuple guards,
                     uint32_t threads=1) except -1:
    """Take the model's guards shared, allocate the scratch, release the GIL, run, free, release
    the guards, check the status and the float outputs: every run of the binding. With more than
    one thread, the rows go in chunks to the helper pool (see run_chunks)."""
    cdef kf_status st
    if threads > 1 and c.n > 1:
        return run_chunks(model, size, run, c, what, guards, threads)
    read_all(guards)
    with nogil:
        st = with_scratch(model, size, run, c)
    try:
        return check_run(st, model, size, run, c, what)
    finally:
        release_all(guards)


# ---- large batches on several threads: chunks of rows on the caller and the helper pool ----

cdef enum:
    # A split batch goes in up to this many chunks per thread, of at least MIN_ROWS_PER_CHUNK
    # rows: enough for a faster core to take over a slower one's share and for the threads to
    # finish close together, few enough that the hand-offs (a microsecond each with spinning
    # helpers) stay small beside the chunks.
    CHUNKS_PER_THREAD = 8
    MIN_ROWS_PER_CHUNK = 128
    # How long a helper spins for the next batch before it parks: waking a parked helper took
    # 0.15 to 2.4 ms on the 2-vCPU VMs measured; spinning costs its core's time meanwhile.
    HELPER_IDLE_NS = 1000000


cdef uint32_t chunk_count(uint64_t rows, uint32_t threads) noexcept nogil:
    """The chunks of a batch of rows split for this many threads (each chunk at least one row)."""
    cdef uint64_t pieces = rows // MIN_ROWS_PER_CHUNK
    if pieces > <uint64_t>threads * CHUNKS_PER_THREAD:
        pieces = <uint64_t>threads * CHUNKS_PER_THREAD
    if pieces < threads:
        pieces = threads
    return <uint32_t>(pieces if pieces < rows else rows)


cdef struct split:
    const void *model
    scratch_fn size
    run_fn run
    const call *whole
    uint32_t chunks
    uint8_t *bad_outputs  # per chunk: its float outputs hold NaN or infinity


cdef call chunk_of(const split *s, uint32_t i) noexcept nogil:
    """The call of chunk i: rows whole.n * i // chunks up to the next chunk's first."""
    cdef call c = s.whole[0]
    cdef uint64_t a = c.n * i // s.chunks
    c.n = c.n * (i + 1) // s.chunks - a
    c.x = <const char *>c.x + a * c.x_row
    if c.y != NULL:
        c.y = <char *>c.y + a * c.y_row
    if c.y2 != NULL:
        c.y2 = <char *>c.y2 + a * c.y2_row
    if c.y3 != NULL:
        c.y3 = <char *>c.y3 + a * c.y3_row + i * c.y3_chunk
    if c.fx != NULL:
        c.fx = c.fx + a * c.fx_cols
    if c.fy != NULL:
        c.fy = c.fy + a * c.fy_cols
    return c


cdef kf_status run_chunk(void *ctx, uint32_t i) noexcept nogil:
    """Run chunk i and check its float outputs on the thread that wrote them, while they are
    still in its cache (a check of the whole batch after the split would run on one thread)."""
    cdef const split *s = <const split *>ctx
    cdef call c = chunk_of(s, i)
    cdef kf_status st = with_scratch(s.model, s.size, s.run, &c)
    s.bad_outputs[i] = st == KF_OK and c.fy != NULL and c.n > 0 and first_bad_row(c.fy, c.n, c.fy_cols) >= 0
    return st


cdef int run_chunks(const void *model, scratch_fn size, run_fn run, call *c, str what, tuple guards,
                    uint32_t threads) except -1:
    """run_checked over chunks of rows shared by the calling thread and up to threads - 1
    helpers: each takes the next chunk when it has finished one (the caller from the front,
    the helpers from the back: kf_pool_run), so a core that runs slower (busy with other work,
    or an efficiency core) takes fewer. Every chunk runs; then the first failing chunk's error
    is raised, its row numbered in the whole batch."""
    cdef split s
    cdef call failed
    cdef uint32_t i
    cdef kf_status st = KF_OK
    cdef kf_status *statuses
    cdef kf_pool *pool = helper_pool(threads - 1)
    s.model, s.size, s.run, s.whole = model, size, run, c
    s.chunks = chunk_count(c.n, threads)
    statuses = <kf_status *>malloc(s.chunks * (sizeof(kf_status) + 1))
    if statuses == NULL:
        raise MemoryError()
    s.bad_outputs = <uint8_t *>(statuses + s.chunks)
    try:
        read_all(guards)
        try:
            with nogil:
                st = kf_pool_run(pool, s.chunks, threads - 1, run_chunk, &s, statuses)
            check(st, what)
            for i in range(s.chunks):
                if statuses[i] != KF_OK or s.bad_outputs[i]:
                    failed = chunk_of(&s, i)
                    try:
                        check_run(statuses[i], model, size, run, &failed, what)
                    except NumericError as error:
                        raise error.with_row_offset(c.n * i // s.chunks) from None
            return 0
        finally:
            release_all(guards)
    finally:
        free(statuses)


cdef class Pool:
    """The helper threads of split batches (kf_pool): started when a batch first asks for them,
    at most one fewer than the cores; between batches they spin for HELPER_IDLE_NS, then wait
    on an event that the next batch sets."""
    cdef kf_pool *ptr
    cdef list threads
    cdef list events
    cdef object lock
    cdef Py_ssize_t most  # helpers it may start: the other cores

    def __cinit__(self):
        check(kf_pool_create(&self.ptr), "cannot create the thread pool")
        self.most = CORES - 1
        self.threads = []
        self.events = []
        import threading
        self.lock = threading.Lock()

    def __dealloc__(self):
        if not self.threads:  # helpers still serving keep the pool (only at exit, after a timeout)
            kf_pool_free(self.ptr)

    cdef kf_pool *ready(self, uint32_t helpers) except? NULL:
        """The pool with at least min(helpers, cores - 1) helper threads, parked ones woken."""
        cdef Py_ssize_t i, want = min(<Py_ssize_t>helpers, self.most)
        if len(self.threads) < want:
            import threading
            with self.lock:
                while len(self.threads) < want:
                    event = threading.Event()
                    thread = threading.Thread(target=self.serve, args=(event,), daemon=True,
                                              name=f"kimi-fann-{len(self.threads) + 1}")
                    try:
                        thread.start()
                    except RuntimeError:  # no threads here (WebAssembly): the caller runs every chunk
                        self.most = len(self.threads)
                        break
                    self.threads.append(thread)
                    self.events.append(event)
        if kf_pool_parked(self.ptr):
            for i in range(len(self.events)):
                self.events[i].set()
        return self.ptr

    def serve(self, event):
        """A helper thread's loop: serve batches; when parked, wait for the event."""
        cdef int r
        while True:
            with nogil:
                r = kf_pool_serve(self.ptr, HELPER_IDLE_NS)
            if r == 0:
                return
            event.wait()
            event.clear()
            kf_pool_unpark(self.ptr)

    def close(self, float timeout=1.0):
        """Stop the helpers and wait for them (at exit)."""
        kf_pool_stop(self.ptr)
        for event in self.events:
            event.set()
        for thread in self.threads:
            thread.join(timeout)
        if not any(thread.is_alive() for thread in self.threads):
            self.threads = []

    def helpers(self):
        """The helper threads started so far."""
        return len(self.threads)

    def parked(self):
        """The helpers that stopped spinning and wait for the next batch."""
        return kf_pool_parked(self.ptr)


cdef object _pool = None
cdef Py_ssize_t CORES = 1


def shared_pool():
    """The process's helper pool (created on first use)."""
    global _pool
    if _pool is None:
        _pool = Pool()
    return _pool


cdef kf_pool *helper_pool(uint32_t helpers) except? NULL:
    return (<Pool>shared_pool()).ready(helpers)


def _forget_pool():
    """In a forked child: the parent's helpers do not exist here; the next batch starts new ones."""
    global _pool
    _pool = None


def _close_pool():
    if _pool is not None:
        _pool.close()


def _init_threads():
    global CORES
    import atexit, os
    CORES = os.cpu_count() or 1
    atexit.register(_close_pool)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget_pool)


_init_threads()


# The C entry points in the shape with_scratch takes.

cdef uint64_t net_scratch(const void *m, uint64_t n) noexcept nogil:
    return kf_net_scratch_floats(<const kf_net *>m) * sizeof(float)

cdef kf_status net_run(const void *m, const call *c, void *s, uint64_t b) noexcept nogil:
    return kf_net_run(<const kf_net *>m, <const float *>c.x, c.n, <float *>c.y, <float *>s, b // sizeof(float))

cdef kf_status net_test(const void *m, const call *c, void *s, uint64_t b) noexcept nogil:
    return kf_net_test(<const kf_net *>m, c.data, <float *>s, b // sizeof(float), c.stats)

cdef uint64_t fixnet_scratch(const void *m, uint64_t n) noexcept nogil:
    return kf_fixnet_scratch_ints(<const kf_fixnet *>m) * sizeof(int32_t)

cdef kf_status fixnet_run(const void *m, const call *c, void *s, uint64_t b) noexcept nogil:
    return kf_fixnet_run(<const kf_fixnet *>m, <const int32_t *>c.x, c.n, <int32_t *>c.y, <int32_t *>s,
                         b // sizeof(int32_t))

#: Rows of a FANN fixed-point network scaled from and to floats at a time (run_scaled).
cdef enum:
    SCALED_BLOCK = 256

cdef uint64_t fixnet_scaled_scratch(const void *m, uint64_t n) noexcept nogil:
    cdef const kf_fixnet *net = <const kf_fixnet *>m
    cdef uint64_t block = SCALED_BLOCK * (<uint64_t>kf_fixnet_num_input(net) + kf_fixnet_num_output(net))
    return (kf_fixnet_scratch_ints(net) + block) * sizeof(int32_t)

cdef kf_status fixnet_run_scaled(const void *m, const call *c, void *s, uint64_t b) noexcept nogil:
    cdef const kf_fixnet *net = <const kf_fixnet *>m
    cdef uint32_t n_in = kf_fixnet_num_input(net), n_out = kf_fixnet_num_output(net)
    cdef int32_t *ints = <int32_t *>s
    cdef int32_t *outs = ints + SCALED_BLOCK * <uint64_t>n_in
    cdef int32_t *scratch = outs + SCALED_BLOCK * <uint64_t>n_out
    cdef double multiplier = kf_fixnet_multiplier(net), v
    cdef float over = <float>multiplier
    cdef const float *x = <const float *>c.x
    cdef float *y = <float *>c.y
    cdef uint64_t start, rows, i
    cdef kf_status st
    start = 0
    while start < c.n:
        rows = min(<uint64_t>SCALED_BLOCK, c.n - start)
        for i in range(rows * n_in):
            v = <double>x[start * n_in + i] * multiplier
            if v != v:
                return KF_E_NUMERIC
            v = rint(v)
            ints[i] = -2147483648 if v <= -2147483648.0 else (2147483647 if v >= 2147483647.0 else <int32_t>v)
        st = kf_fixnet_run(net, ints, rows, outs, scratch, kf_fixnet_scratch_ints(net))
        if st != KF_OK:
            return st
        for i in range(rows * n_out):
            y[start * n_out + i] = <float>outs[i] / over
        start += rows
    return KF_OK

cdef uint64_t qnet_scratch(const void *m, uint64_t n) noexcept nogil:
    return kf_qnet_scratch_bytes(<const kf_qnet *>m, n)

cdef kf_status qnet_run(const void *m, const call *c, void *s, uint64_t b) noexcept nogil:
    return kf_qnet_run(<const kf_qnet *>m, c.path, <const float *>c.x, c.n, <float *>c.y, s, b)

cdef kf_status qnet_run_raw(const void *m, const call *c, void *s, uint64_t b) noexcept nogil:
    return kf_qnet_run_raw(<const kf_qnet *>m, c.path, <const int32_t *>c.x, c.n, <int32_t *>c.y, s, b)

cdef uint64_t router_scratch(const void *m, uint64_t n) noexcept nogil:
    return kf_router_scratch_bytes(<const kf_router *>m, n)

cdef kf_status router_route(const void *m, const call *c, void *s, uint64_t b) noexcept nogil:
    return kf_router_route(<const kf_router *>m, c.path, <const float *>c.x, c.n, <uint32_t *>c.y, <float *>c.y2,
                           <uint64_t *>c.y3, s, b)

cdef uint64_t moe_scratch(const void *m, uint64_t n) noexcept nogil:
    return kf_moe_scratch_bytes(<const kf_moe *>m, n)

cdef kf_status moe_run(const void *m, const call *c, void *s, uint64_t b) noexcept nogil:
    return kf_moe_run(<const kf_moe *>m, c.path, <const float *>c.x, c.n, <float *>c.y, <uint32_t *>c.y2,
                      <float *>c.y3, s, b)


cdef call float_call(int path, const float[:, ::1] X, float[:, ::1] Y) noexcept:
    """The call of a run from float rows into float rows (both non-empty), split by rows."""
    cdef call c = call_of(path, &X[0, 0], X.shape[0], &Y[0, 0])
    c.fx, c.fx_cols, c.fy, c.fy_cols = &X[0, 0], X.shape[1], &Y[0, 0], Y.shape[1]
    c.x_row, c.y_row = X.shape[1] * sizeof(float), Y.shape[1] * sizeof(float)
    return c


cdef call int_call(int path, const int32_t[:, ::1] X, int32_t[:, ::1] Y) noexcept:
    """The call of a run from int32 rows into int32 rows (both non-empty), split by rows."""
    cdef call c = call_of(path, &X[0, 0], X.shape[0], &Y[0, 0])
    c.x_row, c.y_row = X.shape[1] * sizeof(int32_t), Y.shape[1] * sizeof(int32_t)
    return c


cdef call call_of(int path, const void *x, uint64_t n, void *y) noexcept:
    cdef call c
    c.path = <kf_simd>path
    c.fx = NULL
    c.fy = NULL
    c.fx_cols = 0
    c.fy_cols = 0
    c.x = x
    c.n = n
    c.y = y
    c.y2 = NULL
    c.y3 = NULL
    c.data = NULL
    c.stats = NULL
    c.x_row = c.y_row = c.y2_row = c.y3_row = 0
    c.y3_chunk = 0
    return c


# ---- SIMD paths: names from the core, the supported ones checked once ----

def simd_names():
    """Names of the SIMD paths, indexed by kf_simd (0 is "auto")."""
    return [kf_simd_name(<kf_simd>i).decode() for i in range(KF_SIMD_COUNT_)]


def simd_built(int path):
    """Whether this build has the path's kernels."""
    return 0 <= path < KF_SIMD_COUNT_ and bool(kf_simd_built(<kf_simd>path))


def simd_supported(int path):
    """Whether this build has the path and this CPU runs it."""
    return 0 <= path < KF_SIMD_COUNT_ and bool(kf_simd_supported(<kf_simd>path))


def simd_active():
    """The active path (KIMI_FANN_SIMD, or the best the CPU runs), as its kf_simd number."""
    cdef kf_simd path
    cdef kf_status st = kf_simd_active(&path)
    if st != KF_OK:
        import os
        reason = "not a known SIMD path" if st == KF_E_ARG else "not supported by this build or CPU"
        raise error_for_status(st, f"KIMI_FANN_SIMD={os.environ.get('KIMI_FANN_SIMD')!r}: {reason}"
                                   + f"; choose from {', '.join(SIMD_PATHS)}")
    return int(path)


#: The paths' names (without "auto"), in kf_simd order.
SIMD_PATHS = tuple(simd_names()[1:])
#: The paths this build and CPU run, checked once (CPUID traps to the hypervisor on virtual
#: machines: microseconds a call).
SIMD_SUPPORTED = frozenset(p for p in range(1, KF_SIMD_COUNT_) if simd_supported(p))


def simd_peak(int path, int kind, uint64_t rounds):
    """Multiply-accumulates done by rounds of the path's register-only loop of a kind (0 int8,
    1 int16, 2 float; kf_simd_peak): timed by the caller, the path's peak."""
    cdef uint64_t macs = 0
    cdef kf_status st
    if not 0 <= path < KF_SIMD_COUNT_ or not 0 <= kind < KF_PEAK_COUNT_:
        raise error_for_status(KF_E_ARG, f"no SIMD path {path} or peak kind {kind}")
    if path not in SIMD_SUPPORTED:
        raise error_for_status(KF_E_UNSUPPORTED,
                               f"SIMD path {simd_names()[path]!r} is not supported by this build or CPU")
    with nogil:
        st = kf_simd_peak(<kf_simd>path, <kf_peak_kind>kind, rounds, &macs)
    check(st, f"cannot run the peak loop of path {path}")
    return int(macs)


cdef int path_of(object name) except -1:
    if name is None:
        return 0
    if name not in SIMD_PATHS:
        raise ConfigError(f"unknown SIMD path {name!r}; expected one of {', '.join(SIMD_PATHS)}")
    number = SIMD_PATHS.index(name) + 1
    if number not in SIMD_SUPPORTED:
        raise ConfigError(f"SIMD path {name!r} is not supported by this build or CPU; supported: {_SUPPORTED_NAMES}")
    return number


_SUPPORTED_NAMES = ", ".join([SIMD_PATHS[i - 1] for i in sorted(SIMD_SUPPORTED)])


def path_number(name):
    """kf_simd number of a path name (None: 0, the active path). ConfigError for an unknown name
    or a path this build or CPU cannot run."""
    return path_of(name)


# ---- the fast path: a float32 buffer straight into C, one dispatch for every model ----

cdef object _numpy_empty = None
cdef object _float32 = None
cdef object _uint32 = None
cdef object _uint8 = None


cdef object new_array(Py_ssize_t rows, Py_ssize_t cols, bint matrix, object dtype=None):
    """A new numpy array of shape (rows, cols), or (cols,) when not matrix; float32 unless told.
    numpy is imported on first use only: the module itself runs without numpy. The dtypes are
    kept as objects: numpy.empty parses a dtype string on every call (about 0.1 us)."""
    global _numpy_empty, _float32, _uint32, _uint8
    if _numpy_empty is None:
        import numpy
        _float32, _uint32, _uint8 = numpy.dtype("float32"), numpy.dtype("uint32"), numpy.dtype("uint8")
        _numpy_empty = numpy.empty
    if dtype is None:
        dtype = _float32
    if matrix:
        return _numpy_empty((rows, cols), dtype)
    return _numpy_empty(cols, dtype)


cdef object uint32_type():
    new_array(0, 0, False)
    return _uint32


cdef bint is_float32(Py_buffer *view) noexcept:
    """A buffer of float32 values the core can read as floats: aligned to 4 bytes (numpy arrays
    rebuilt from a byte stream, as Dask's and pickle's out-of-band buffers are, may not be)."""
    return view.format != NULL and (view.format[0] == b'f' and view.format[1] == 0
                                    or (view.format[0] in (b'<', b'=', b'@') and view.format[1] == b'f'
                                        and view.format[2] == 0)) \
        and (<uintptr_t>view.buf) % sizeof(float) == 0


cdef Py_ssize_t thread_count(object threads, Py_ssize_t rows) except -3:
    """The threads for a batch of rows: for None, one up to FAST_ROWS rows (waking a parked
    helper costs about the time of a few hundred small-network samples), then every core with at
    least FAST_ROWS / 2 rows each; else the number given (an integer, not a bool), at most one
    per row. -1 for any other argument."""
    if threads is None:
        return 1 if rows <= FAST_ROWS else min(CORES, rows // (FAST_ROWS // 2))
    if type(threads) is not int:
        if isinstance(threads, bool) or not hasattr(type(threads), "__index__"):
            return -1
        threads = threads.__index__()  # numpy integers
    if threads < 1:
        return -1
    return min(threads, max(rows, 1), 0xffffffff)


def resolve_threads(object threads, Py_ssize_t rows):
    """The number of threads for a batch of rows (see thread_count), or ConfigError.

    Examples
    --------
    >>> from kimi_fann._core import resolve_threads
    >>> resolve_threads(None, 100), resolve_threads(8, 3)
    (1, 3)
    """
    cdef Py_ssize_t t = thread_count(threads, rows)
    if t < 0:
        raise ConfigError(f"threads must be a positive integer or None, got {threads!r}")
    return t


cdef object fast(object x, object threads, object simd, uint32_t n_in, uint32_t n_out, bint routes,
                 const void *model, scratch_fn size, run_fn run, str what, tuple guards):
    """Outputs for a C-contiguous float32 buffer of shape (n_in,) or (n, n_in), as new numpy
    arrays (the router's: experts and weights), the rows split between threads as run_checked
    does; None when the call is not for the fast path (another dtype or layout, misaligned
    values, an invalid threads argument, the router on more than one thread): the caller then
    converts and checks the arguments."""
    cdef Py_buffer view, ov, ov2
    cdef Py_ssize_t n, threads_n
    cdef int path
    cdef call c
    path = 0 if simd is None else path_of(simd)
    try:
        PyObject_GetBuffer(x, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
    except (TypeError, ValueError, BufferError):
        return None  # not a buffer, or not C-contiguous
    try:
        if not is_float32(&view) or view.ndim < 1 or view.ndim > 2 or view.shape[view.ndim - 1] != n_in:
            return None
        n = view.shape[0] if view.ndim == 2 else 1
        threads_n = thread_count(threads, n)
        if threads_n < 0 or (routes and threads_n > 1):
            return None
        out = new_array(n, n_out, view.ndim == 2, uint32_type() if routes else None)
        out2 = new_array(n, n_out, view.ndim == 2) if routes else None
        if n == 0:
            return (out, out2) if routes else out
        c = call_of(path, view.buf, n, NULL)
        c.fx, c.fx_cols = <const float *>view.buf, n_in
        c.x_row, c.y_row = n_in * sizeof(float), n_out * sizeof(float)
        PyObject_GetBuffer(out, &ov, PyBUF_C_CONTIGUOUS)
        c.y = ov.buf
        c.fy, c.fy_cols = <const float *>ov.buf, n_out
        if routes:
            PyObject_GetBuffer(out2, &ov2, PyBUF_C_CONTIGUOUS)
            c.y2 = ov2.buf
            c.fy = <const float *>ov2.buf  # the weights (the experts are integers)
        try:
            run_checked(model, size, run, &c, what, guards, <uint32_t>threads_n)
        finally:
            PyBuffer_Release(&ov)
            if routes:
                PyBuffer_Release(&ov2)
        return (out, out2) if routes else out
    finally:
        PyBuffer_Release(&view)


ctypedef kf_status (*structure_fn)(const void *model, uint32_t *layer_start, uint32_t *con_start, uint32_t *con_src,
                                   uint8_t *activation, void *steepness) noexcept nogil

cdef kf_status net_structure(const void *m, uint32_t *ls, uint32_t *cs, uint32_t *src, uint8_t *act,
                             void *st) noexcept nogil:
    return kf_net_get_structure(<const kf_net *>m, ls, cs, src, act, <float *>st)

cdef kf_status fixnet_structure(const void *m, uint32_t *ls, uint32_t *cs, uint32_t *src, uint8_t *act,
                                void *st) noexcept nogil:
    return kf_fixnet_get_structure(<const kf_fixnet *>m, ls, cs, src, act, <int32_t *>st)


cdef dict structure_of(const void *model, structure_fn get, uint32_t L, uint32_t N, uint32_t C, object steepness_dtype,
                       bint shortcut, float connection_rate):
    """A network's structure as new numpy arrays, by the names of kimi_fann.Topology's fields."""
    cdef uint32_t[::1] ls, cs, src
    cdef uint8_t[::1] act
    cdef Py_buffer sv
    layer_start, con_start = new_array(0, L + 1, False, uint32_type()), new_array(0, N + 1, False, _uint32)
    con_src, activation = new_array(0, C, False, _uint32), new_array(0, N, False, _uint8)
    steepness = new_array(0, N, False, steepness_dtype)  # 4-byte values: float32 or int32
    ls, cs, src, act = layer_start, con_start, con_src, activation
    PyObject_GetBuffer(steepness, &sv, PyBUF_C_CONTIGUOUS)
    try:
        check(get(model, &ls[0], &cs[0], &src[0] if C else NULL, &act[0], sv.buf), "cannot read the structure")
    finally:
        PyBuffer_Release(&sv)
    return {"layer_starts": layer_start, "connection_starts": con_start, "sources": con_src,
            "activations": activation, "steepnesses": steepness, "shortcut": shortcut,
            "connection_rate": connection_rate}


def full_structure(const uint32_t[::1] layer_start, bint shortcut):
    """(connection starts, sources) of a fully connected network with these layer starts, as
    uint32 numpy arrays (kf_structure_full)."""
    cdef Py_ssize_t L = layer_start.shape[0] - 1
    cdef uint32_t[::1] starts
    cdef uint32_t[::1] sources
    cdef kf_net_type kind = KF_NET_SHORTCUT if shortcut else KF_NET_LAYER
    if L < 2 or L > KF_MAX_LAYERS or layer_start[L] > KF_MAX_NEURONS:
        raise error_for_status(KF_E_ARG, f"{L + 1} layer starts ending at {layer_start[L] if L >= 0 else 0} do not "
                                         f"describe a network of 2 to {KF_MAX_LAYERS} layers")
    con_start = new_array(0, layer_start[L] + 1, False, uint32_type())
    starts = con_start
    check(kf_structure_full(<uint32_t>L, kind, &layer_start[0], &starts[0], NULL), "invalid layer starts")
    con_src = new_array(0, starts[layer_start[L]], False, _uint32)
    sources = con_src
    check(kf_structure_full(<uint32_t>L, kind, &layer_start[0], &starts[0],
                            &sources[0] if sources.shape[0] else NULL), "invalid layer starts")
    return con_start, con_src


# ---- float networks ----

cdef str neuron_name(int32_t neuron):
    """How a message names the neuron argument of kf_net_set_activation/steepness (-1: all)."""
    return f"neuron {neuron}" if neuron >= 0 else "every neuron"


cdef class Net:
    """Owner of one C network (kf_net). Runs take its guard shared, changes exclusively
    (see Guard): a run never sees half of a change."""

    def __dealloc__(self):
        kf_net_free(self.ptr)
        self.ptr = NULL

    @staticmethod
    cdef Net wrap(kf_net *ptr):
        """Every Net is made here (no __cinit__: Cython's argument-less one offsets a null
        argument pointer, which UBSan reports)."""
        cdef Net net = Net.__new__(Net)
        net.ptr = ptr
        net.guard = Guard()
        net.guards = (net.guard,)
        return net

    @staticmethod
    def create(layers, bint shortcut, float connection_rate, uint64_t seed):
        cdef Py_ssize_t n = len(layers), i
        cdef uint32_t *sizes
        cdef kf_net *ptr = NULL
        cdef kf_status st
        if n < 2 or n > KF_MAX_LAYERS:
            raise error_for_status(KF_E_ARG, f"a network needs 2 to {KF_MAX_LAYERS} layers, got {n}")
        sizes = <uint32_t *>malloc(n * sizeof(uint32_t))
        if sizes == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                sizes[i] = layers[i]
            with nogil:
                st = kf_net_create(sizes, <uint32_t>n, KF_NET_SHORTCUT if shortcut else KF_NET_LAYER,
                                   connection_rate, seed, &ptr)
        finally:
            free(sizes)
        if st == KF_E_LIMIT:
            raise error_for_status(st, f"cannot create the network: layers {list(layers)} exceed the library's limits "
                                       f"({KF_MAX_NEURONS} neurons, {KF_MAX_CONNECTIONS} connections)")
        check(st, "cannot create the network")
        return Net.wrap(ptr)

    @staticmethod
    def parse_fann(const unsigned char[::1] text, str source):
        cdef kf_net *ptr = NULL
        cdef kf_diag diag
        cdef kf_status st
        cdef const char *p = <const char *>&text[0] if text.shape[0] > 0 else NULL
        cdef size_t n = text.shape[0]
        with nogil:
            st = kf_net_parse_fann(p, n, &ptr, &diag)
        check_diag(st, &diag, source)
        return Net.wrap(ptr)

    def format_fann(self):
        cdef char *text = NULL
        cdef size_t n = 0
        cdef kf_status st
        read_all(self.guards)
        with nogil:
            st = kf_net_format_fann(self.ptr, &text, &n)
        release_all(self.guards)
        check(st, "cannot write the network")
        return take_text(text, n)

    @staticmethod
    def assemble(object topology, const float[::1] weights, object scaling, str source):
        """A network from a topology (kimi_fann.Topology: its layer_starts, connection_starts,
        sources, activations, steepnesses, shortcut and connection_rate), its weights and
        optionally its scaling parameters (the layout of read_scaling), checked by the core."""
        cdef const uint32_t[::1] layer_start = topology.layer_starts
        cdef const uint32_t[::1] con_start = topology.connection_starts
        cdef const uint32_t[::1] con_src = topology.sources
        cdef const uint8_t[::1] activation = topology.activations
        cdef const float[::1] steepness = topology.steepnesses
        cdef bint shortcut = topology.shortcut
        cdef float rate = topology.connection_rate
        cdef kf_params params
        cdef kf_net *ptr = NULL
        cdef kf_diag diag
        cdef kf_status st
        cdef const float[::1] sc
        cdef const float *sc_ptr = NULL
        cdef Py_ssize_t N = con_start.shape[0] - 1
        if layer_start.shape[0] < 3 or N < 1 or activation.shape[0] != N or steepness.shape[0] != N \
                or con_src.shape[0] != weights.shape[0] or layer_start[layer_start.shape[0] - 1] != N \
                or con_start[N] != con_src.shape[0]:
            raise error_for_status(KF_E_FORMAT, f"{source}: the network's arrays disagree in size")
        if scaling is not None:
            sc = scaling
            sc_ptr = &sc[0] if sc.shape[0] else NULL
            n_in = layer_start[1] - 1
            last = layer_start[layer_start.shape[0] - 1] - layer_start[layer_start.shape[0] - 2]
            n_out = last - (0 if shortcut else 1)
            if sc.shape[0] != 4 * (n_in + n_out):
                raise error_for_status(
                    KF_E_FORMAT, f"{source}: scaling holds {sc.shape[0]} values, expected {4 * (n_in + n_out)}")
        kf_params_default(&params)
        st = kf_net_assemble(<uint32_t>(layer_start.shape[0] - 1), KF_NET_SHORTCUT if shortcut else KF_NET_LAYER,
                             rate, &layer_start[0], &con_start[0],
                             &con_src[0] if con_src.shape[0] else NULL, &weights[0] if weights.shape[0] else NULL,
                             &activation[0], &steepness[0], &params, sc_ptr, &ptr, &diag)
        check_diag(st, &diag, source)
        return Net.wrap(ptr)

    def reading(self):
        """A context manager holding the network shared: reads of several calls that must agree
        (a pickle), while no change can start."""
        return Hold(self.guard, False)

    def writing(self):
        """A context manager holding the network exclusively: a change of several calls that no
        run may see half of; nested holds in one thread are allowed."""
        return Hold(self.guard, True)

    def structure(self):
        """The structure as new numpy arrays, by the names of kimi_fann.Topology's fields."""
        self.guard.readable()
        return structure_of(self.ptr, net_structure, kf_net_num_layers(self.ptr), kf_net_total_neurons(self.ptr),
                            kf_net_total_connections(self.ptr), None, self.shortcut, self.connection_rate)

    def get_cascade(self):
        """(activation functions, steepnesses) of the cascade-correlation settings."""
        cdef uint32_t functions[KF_MAX_CASCADE_LIST]
        cdef float steepnesses[KF_MAX_CASCADE_LIST]
        cdef uint32_t nf = 0, ns = 0, i
        self.guard.readable()
        check(kf_net_get_cascade(self.ptr, functions, &nf, steepnesses, &ns), "cannot read the cascade settings")
        return [functions[i] for i in range(nf)], [steepnesses[i] for i in range(ns)]

    def set_cascade(self, list functions, list steepnesses):
        """Replace them; the core checks the counts, the functions and the steepnesses."""
        cdef Py_ssize_t nf = len(functions), ns = len(steepnesses), i
        cdef uint32_t *f = <uint32_t *>malloc(max(nf, 1) * sizeof(uint32_t))
        cdef float *s = <float *>malloc(max(ns, 1) * sizeof(float))
        try:
            if f == NULL or s == NULL:
                raise MemoryError()
            for i in range(nf):
                f[i] = functions[i] if 0 <= functions[i] <= 0xFFFFFFFF else 0xFFFFFFFF
            for i in range(ns):
                s[i] = steepnesses[i]
            with self.writing():
                check(kf_net_set_cascade(self.ptr, f, <uint32_t>min(nf, 0xFFFFFFFF), s, <uint32_t>min(ns, 0xFFFFFFFF)),
                      f"cascade activation functions {functions!r} and steepnesses {steepnesses!r}")
        finally:
            free(f)
            free(s)

    def copy(self):
        cdef kf_net *ptr = NULL
        self.guard.readable()
        check(kf_net_copy(self.ptr, &ptr), "cannot copy the network")
        return Net.wrap(ptr)

    @property
    def num_input(self):
        return kf_net_num_input(self.ptr)

    @property
    def num_output(self):
        return kf_net_num_output(self.ptr)

    @property
    def total_neurons(self):
        return kf_net_total_neurons(self.ptr)

    @property
    def total_connections(self):
        return kf_net_total_connections(self.ptr)

    @property
    def shortcut(self):
        return kf_net_network_type(self.ptr) == KF_NET_SHORTCUT

    @property
    def connection_rate(self):
        return kf_net_connection_rate(self.ptr)

    @property
    def has_scaling(self):
        return bool(kf_net_has_scaling(self.ptr))

    def layer_sizes(self):
        return [kf_net_layer_size(self.ptr, l) for l in range(kf_net_num_layers(self.ptr))]

    def get_param(self, int p):
        cdef double v = 0
        if p < 0 or p >= KF_PARAM_COUNT_:
            raise error_for_status(KF_E_ARG, f"no parameter number {p}")
        self.guard.readable()
        check(kf_net_get_param(self.ptr, <kf_param>p, &v), "cannot read the parameter")
        return v

    def set_param(self, int p, double value):
        if p < 0 or p >= KF_PARAM_COUNT_:
            raise error_for_status(KF_E_ARG, f"no parameter number {p}")
        with self.writing():
            check(kf_net_set_param(self.ptr, <kf_param>p, value), f"{kf_param_name(<kf_param>p).decode()}={value!r}")

    def set_activation(self, uint32_t layer, int32_t neuron, int activation):
        with self.writing():
            check(kf_net_set_activation(self.ptr, layer, neuron, <kf_activation>activation),
                  f"cannot set activation {activation} on layer {layer}, {neuron_name(neuron)}")

    def set_steepness(self, uint32_t layer, int32_t neuron, float steepness):
        with self.writing():
            check(kf_net_set_steepness(self.ptr, layer, neuron, steepness),
                  f"cannot set steepness {steepness} on layer {layer}, {neuron_name(neuron)}")

    def get_activation(self, uint32_t layer, uint32_t neuron):
        cdef kf_activation a
        cdef float s
        self.guard.readable()
        check(kf_net_get_activation(self.ptr, layer, neuron, &a, &s),
              f"no neuron {neuron} in layer {layer}")
        return int(a), s

    def read_weights(self, float[::1] out):
        self.guard.readable()
        check(kf_net_get_weights(self.ptr, &out[0] if out.shape[0] else NULL, out.shape[0]),
              f"expected room for {kf_net_total_connections(self.ptr)} weights, got {out.shape[0]}")

    def write_weights(self, const float[::1] weights):
        cdef const float *p = &weights[0] if weights.shape[0] > 0 else NULL
        with self.writing():
            check(kf_net_set_weights(self.ptr, p, weights.shape[0]),
                  f"cannot set {weights.shape[0]} weights on a network of {kf_net_total_connections(self.ptr)}")

    def randomize_weights(self, float lo, float hi, uint64_t seed):
        with self.writing():
            check(kf_net_randomize_weights(self.ptr, lo, hi, seed), f"cannot draw weights in [{lo}, {hi}]")

    def init_weights(self, const float[:, ::1] X, uint64_t seed):
        cdef kf_data d
        if X.shape[1] != kf_net_num_input(self.ptr):
            raise ShapeError(f"the network has {kf_net_num_input(self.ptr)} inputs, the data {X.shape[1]}")
        d.num_data = <uint32_t>X.shape[0]
        d.num_input = <uint32_t>X.shape[1]
        d.num_output = 0
        d.input = <float *>&X[0, 0] if X.shape[0] > 0 else NULL
        d.output = NULL
        with self.writing():
            check(kf_net_init_weights(self.ptr, &d, seed), "cannot initialise the weights (Nguyen-Widrow)")

    def run_fast(self, object x, object threads=None, object simd=None):
        """The fast path of run (see fast): outputs, or None."""
        return fast(x, threads, simd, kf_net_num_input(self.ptr), kf_net_num_output(self.ptr), False,
                    self.ptr, net_scratch, net_run, "cannot run the network", self.guards)

    def run(self, const float[:, ::1] X, float[:, ::1] Y, uint32_t threads=1):
        cdef call c
        check_rows(X.shape[0], X.shape[1], Y.shape[0], Y.shape[1], kf_net_num_input(self.ptr),
                   kf_net_num_output(self.ptr))
        if X.shape[0] == 0:
            return
        c = float_call(0, X, Y)
        run_checked(self.ptr, net_scratch, net_run, &c, "cannot run the network", self.guards, threads)

    def test(self, const float[:, ::1] X, const float[:, ::1] Y):
        cdef kf_epoch_stats stats
        cdef kf_data d
        cdef call c = call_of(0, NULL, 0, NULL)
        check_pairs(X, Y)
        d = data_view(X, Y)
        c.data = &d
        c.stats = &stats
        run_checked(self.ptr, net_scratch, net_test, &c, "cannot test the network", self.guards)
        return stats.mse, stats.bit_fail

    def set_scaling(self, const float[:, ::1] X, const float[:, ::1] Y, int which, float in_min, float in_max,
                    float out_min, float out_max):
        cdef kf_data d
        check_pairs(X, Y)
        d = data_view(X, Y)
        with self.writing():
            check(kf_net_set_scaling(self.ptr, &d, which, in_min, in_max, out_min, out_max),
                  "cannot compute scaling parameters")

    def clear_scaling(self):
        with self.writing():
            kf_net_clear_scaling(self.ptr)

    def scale(self, int op, float[:, ::1] values):
        cdef uint32_t cols = kf_net_num_input(self.ptr) if op in (KF_SCALE_INPUT, KF_DESCALE_INPUT) \
            else kf_net_num_output(self.ptr)
        if values.shape[1] != cols:
            raise ShapeError(f"expected rows of {cols} values, got {values.shape[1]}")
        self.guard.readable()
        # KF_E_UNSUPPORTED is the one failure left: no scaling parameters (checked for 0 rows too)
        check(kf_net_scale(self.ptr, <kf_scale_op>op, &values[0, 0] if values.shape[0] else NULL, values.shape[0]),
              "cannot scale: the network has no scaling parameters")

    def write_scaling(self, const float[::1] values):
        """Replace the 8 scaling arrays (the layout of read_scaling) and mark them present."""
        with self.writing():
            check(kf_net_set_scaling_values(self.ptr, &values[0] if values.shape[0] else NULL, values.shape[0]),
                  f"cannot set {values.shape[0]} scaling values")

    def read_scaling(self, float[::1] out):
        """Copy the 8 scaling arrays (mean, deviation, new_min, factor; inputs then outputs)."""
        self.guard.readable()
        check(kf_net_get_scaling_values(self.ptr, &out[0] if out.shape[0] else NULL, out.shape[0]),
              f"cannot read the scaling values into room for {out.shape[0]}")


# ---- FANN fixed point ----

cdef class FixNet:
    """Owner of one FANN fixed-point network (kf_fixnet)."""

    def __dealloc__(self):
        kf_fixnet_free(self.ptr)
        self.ptr = NULL

    @staticmethod
    cdef FixNet wrap(kf_fixnet *ptr):
        cdef FixNet net = FixNet.__new__(FixNet)
        net.ptr = ptr
        return net

    @staticmethod
    def parse_fann(const unsigned char[::1] text, str source):
        cdef kf_fixnet *ptr = NULL
        cdef kf_diag diag
        cdef kf_status st
        cdef const char *p = <const char *>&text[0] if text.shape[0] > 0 else NULL
        cdef size_t n = text.shape[0]
        with nogil:
            st = kf_fixnet_parse_fann(p, n, &ptr, &diag)
        check_diag(st, &diag, source)
        return FixNet.wrap(ptr)

    @staticmethod
    def from_net(Net net not None):
        cdef kf_fixnet *ptr = NULL
        net.guard.readable()
        check(kf_net_to_fixnet(net.ptr, &ptr), "cannot convert the network to fixed point")
        return FixNet.wrap(ptr)

    def format_fann(self):
        cdef char *text = NULL
        cdef size_t n = 0
        cdef kf_status st
        with nogil:
            st = kf_fixnet_format_fann(self.ptr, &text, &n)
        check(st, "cannot write the network")
        return take_text(text, n)

    @property
    def num_input(self):
        return kf_fixnet_num_input(self.ptr)

    @property
    def num_output(self):
        return kf_fixnet_num_output(self.ptr)

    @property
    def total_neurons(self):
        return kf_fixnet_total_neurons(self.ptr)

    @property
    def total_connections(self):
        return kf_fixnet_total_connections(self.ptr)

    @property
    def decimal_point(self):
        return kf_fixnet_decimal_point(self.ptr)

    @property
    def multiplier(self):
        return kf_fixnet_multiplier(self.ptr)

    @property
    def shortcut(self):
        return kf_fixnet_network_type(self.ptr) == KF_NET_SHORTCUT

    def structure(self):
        """As Net.structure; the steepnesses in fixed point (int32, value * multiplier)."""
        return structure_of(self.ptr, fixnet_structure, kf_fixnet_num_layers(self.ptr),
                            kf_fixnet_total_neurons(self.ptr), kf_fixnet_total_connections(self.ptr), "int32",
                            self.shortcut, 1.0)

    def read_weights(self, int32_t[::1] out):
        check(kf_fixnet_get_weights(self.ptr, &out[0] if out.shape[0] else NULL, out.shape[0]),
              f"expected room for {kf_fixnet_total_connections(self.ptr)} weights, got {out.shape[0]}")

    def run(self, const int32_t[:, ::1] X, int32_t[:, ::1] Y, uint32_t threads=1):
        """Integers in and out (values times the multiplier)."""
        cdef call c
        self.runnable(X.shape[0], X.shape[1], Y.shape[0], Y.shape[1])
        if X.shape[0] == 0:
            return
        c = int_call(0, X, Y)
        run_checked(self.ptr, fixnet_scratch, fixnet_run, &c, "cannot run the fixed-point network", (), threads)

    def run_scaled(self, const float[:, ::1] X, float[:, ::1] Y, uint32_t threads=1):
        """Floats in and out as libfixedfann's callers scale them: each input times the multiplier
        in double, rounded half to even and saturated to int32; each output over the multiplier
        in float32. The rows go through in blocks (the memory of a block of integers, not of the
        batch)."""
        cdef call c
        self.runnable(X.shape[0], X.shape[1], Y.shape[0], Y.shape[1])
        if X.shape[0] == 0:
            return
        c = float_call(0, X, Y)
        c.fy = NULL  # outputs of integers over the multiplier: finite
        run_checked(self.ptr, fixnet_scaled_scratch, fixnet_run_scaled, &c, "cannot run the fixed-point network", (),
                    threads)

    cdef int runnable(self, Py_ssize_t rows_x, Py_ssize_t cols_x, Py_ssize_t rows_y, Py_ssize_t cols_y) except -1:
        """Check the shapes, and that libfixedfann computes every activation (the core says which
        neuron and why not)."""
        cdef kf_diag diag
        check_rows(rows_x, cols_x, rows_y, cols_y, kf_fixnet_num_input(self.ptr), kf_fixnet_num_output(self.ptr))
        check_diag(kf_fixnet_check(self.ptr, &diag), &diag, "cannot run the fixed-point network")
        return 0


# ---- native fixed point (Q8 / Q16) ----

cdef class QNet:
    """Owner of one native fixed-point network (kf_qnet, Q8 or Q16)."""
    cdef kf_qnet *ptr

    def __dealloc__(self):
        kf_qnet_free(self.ptr)
        self.ptr = NULL

    def __cinit__(self, object spec):
        """From a quantized description (kimi_fann.QuantizedSpec, or anything with its fields:
        activation_bits, weight_bits, input_inv_scale, input_zero, output_scale, output_zero and
        layers, each with weights, bias, multiplier, shift, t0, seg_shift, knots, out_lo and
        out_hi, and optionally shortcut); the core checks it (ranges, sizes, the overflow bound)."""
        cdef kf_qnet_desc desc
        cdef kf_qlayer_desc *descs
        cdef kf_diag diag
        cdef const float[::1] inv_scale = spec.input_inv_scale
        cdef const int32_t[::1] input_zero = spec.input_zero
        cdef const int16_t[:, ::1] w
        cdef const int32_t[::1] bias, mult, knots
        cdef const uint8_t[::1] shift
        cdef kf_status st = KF_OK
        cdef Py_ssize_t l, n
        layers = list(spec.layers)
        n = len(layers)
        keep = []  # the memoryviews must outlive kf_qnet_create
        if n < 1 or n >= KF_MAX_LAYERS:
            raise error_for_status(KF_E_ARG, f"a quantized network needs 1 to {KF_MAX_LAYERS - 1} layers, got {n}")
        if inv_scale.shape[0] != input_zero.shape[0]:
            raise ShapeError("input scales and zero points differ in length")
        descs = <kf_qlayer_desc *>malloc(n * sizeof(kf_qlayer_desc))
        if descs == NULL:
            raise MemoryError()
        try:
            for l in range(n):
                layer = layers[l]
                w, bias, mult, shift, knots = layer.weights, layer.bias, layer.multiplier, layer.shift, layer.knots
                keep.append((w, bias, mult, shift, knots))
                if bias.shape[0] != w.shape[0] or mult.shape[0] != w.shape[0] or shift.shape[0] != w.shape[0]:
                    raise ShapeError(f"layer {l}: per-row arrays differ from the {w.shape[0]} rows")
                if w.shape[0] == 0 or w.shape[1] == 0 or knots.shape[0] == 0:
                    raise ShapeError(f"layer {l}: empty weights or table")
                descs[l].n_in = <uint32_t>w.shape[1]
                descs[l].n_out = <uint32_t>w.shape[0]
                descs[l].weights = &w[0, 0]
                descs[l].bias = &bias[0]
                descs[l].multiplier = &mult[0]
                descs[l].shift = &shift[0]
                descs[l].t0 = layer.t0
                descs[l].seg_shift = layer.seg_shift
                descs[l].num_knots = <uint32_t>knots.shape[0]
                descs[l].knots = &knots[0]
                descs[l].out_lo = layer.out_lo
                descs[l].out_hi = layer.out_hi
            desc.activation_bits = spec.activation_bits
            desc.weight_bits = spec.weight_bits
            desc.num_layers = <uint32_t>n
            desc.num_input = <uint32_t>input_zero.shape[0]
            desc.input_inv_scale = &inv_scale[0] if inv_scale.shape[0] else NULL
            desc.input_zero = &input_zero[0] if input_zero.shape[0] else NULL
            desc.output_scale = spec.output_scale
            desc.output_zero = spec.output_zero
            desc.layers = descs
            desc.shortcut = 1 if getattr(spec, "shortcut", False) else 0
            st = kf_qnet_create(&desc, &self.ptr, &diag)
        finally:
            free(descs)
        check_diag(st, &diag, "invalid quantized network")

    @property
    def num_input(self):
        return kf_qnet_num_input(self.ptr)

    @property
    def num_output(self):
        return kf_qnet_num_output(self.ptr)

    def run_fast(self, object x, object threads=None, object simd=None):
        """The fast path of run (see fast): outputs, or None."""
        return fast(x, threads, simd, kf_qnet_num_input(self.ptr), kf_qnet_num_output(self.ptr), False,
                    self.ptr, qnet_scratch, qnet_run, "cannot run the quantized network", ())

    def run(self, const float[:, ::1] X, float[:, ::1] Y, int path=0, uint32_t threads=1):
        cdef call c
        check_rows(X.shape[0], X.shape[1], Y.shape[0], Y.shape[1], kf_qnet_num_input(self.ptr),
                   kf_qnet_num_output(self.ptr))
        if X.shape[0] == 0:
            return
        c = float_call(path, X, Y)
        run_checked(self.ptr, qnet_scratch, qnet_run, &c, "cannot run the quantized network", (), threads)

    def run_raw(self, const int32_t[:, ::1] X, int32_t[:, ::1] Y, int path=0, uint32_t threads=1):
        cdef call c
        check_rows(X.shape[0], X.shape[1], Y.shape[0], Y.shape[1], kf_qnet_num_input(self.ptr),
                   kf_qnet_num_output(self.ptr))
        if X.shape[0] == 0:
            return
        c = int_call(path, X, Y)
        run_checked(self.ptr, qnet_scratch, qnet_run_raw, &c, "cannot run the quantized network", (), threads)


# ---- router and mixture ----

cdef class Router:
    """Owner of one router (kf_router). Routing takes its guard shared, a new bias exclusively
    (see Guard)."""
    cdef kf_router *ptr
    cdef Guard guard
    cdef tuple guards

    def __dealloc__(self):
        kf_router_free(self.ptr)
        self.ptr = NULL

    def __cinit__(self, int top_k, int scoring, int gate_bits, object gates, object gates_q, object gate_scale,
                  object bias, float scaling):
        cdef kf_router_desc desc
        cdef kf_diag diag
        cdef const float[:, ::1] g
        cdef const int16_t[:, ::1] gq
        cdef const float[::1] gs, b
        cdef kf_status st
        self.guard = Guard()
        self.guards = (self.guard,)
        desc.top_k = top_k
        desc.scoring = scoring
        desc.gate_bits = gate_bits
        desc.gates = NULL
        desc.gates_q = NULL
        desc.gate_scale = NULL
        desc.bias = NULL
        desc.scaling = scaling
        if gate_bits == 32:
            g = gates
            desc.n_experts, desc.dim = <uint32_t>g.shape[0], <uint32_t>g.shape[1]
            desc.gates = &g[0, 0]
        else:
            gq, gs = gates_q, gate_scale
            if gs.shape[0] != gq.shape[0]:
                raise ShapeError("one gate scale per expert is needed")
            desc.n_experts, desc.dim = <uint32_t>gq.shape[0], <uint32_t>gq.shape[1]
            desc.gates_q = &gq[0, 0]
            desc.gate_scale = &gs[0]
        if bias is not None:
            b = bias
            if b.shape[0] != desc.n_experts:
                raise ShapeError(f"bias has {b.shape[0]} values for {desc.n_experts} experts")
            desc.bias = &b[0]
        st = kf_router_create(&desc, &self.ptr, &diag)
        check_diag(st, &diag, "invalid router")

    @property
    def n_experts(self):
        return kf_router_n_experts(self.ptr)

    @property
    def dim(self):
        return kf_router_dim(self.ptr)

    @property
    def top_k(self):
        return kf_router_top_k(self.ptr)

    def reading(self):
        """A context manager holding the router shared (see Net.reading)."""
        return Hold(self.guard, False)

    def writing(self):
        """A context manager holding the router exclusively (see Net.writing)."""
        return Hold(self.guard, True)

    def set_bias(self, object bias):
        cdef const float[::1] b
        if bias is None:
            with self.writing():
                check(kf_router_set_bias(self.ptr, NULL), "cannot clear the bias")
            return
        b = bias
        if b.shape[0] != kf_router_n_experts(self.ptr):
            raise ShapeError(f"bias has {b.shape[0]} values for {kf_router_n_experts(self.ptr)} experts")
        with self.writing():
            check(kf_router_set_bias(self.ptr, &b[0]), "cannot set the bias")

    def route_fast(self, object x, object threads=None, object simd=None):
        """The fast path of route (see fast): (experts, weights), or None."""
        return fast(x, threads, simd, kf_router_dim(self.ptr), kf_router_top_k(self.ptr), True,
                    self.ptr, router_scratch, router_route, "cannot route", self.guards)

    def route(self, const float[:, ::1] X, uint32_t[:, ::1] experts, float[:, ::1] weights, object load, int path=0,
              uint32_t threads=1):
        """Route X into experts and weights; load, when given, gets each expert's count added.
        A split batch counts per chunk, then adds the chunks' counts."""
        cdef uint64_t[::1] counts
        cdef uint64_t[:, ::1] per_chunk
        cdef uint32_t k = kf_router_top_k(self.ptr), e = kf_router_n_experts(self.ptr)
        cdef call c
        chunk_load = None
        if X.shape[1] != kf_router_dim(self.ptr) or experts.shape[0] != X.shape[0] or weights.shape[0] != X.shape[0] \
                or experts.shape[1] != k or weights.shape[1] != k:
            raise ShapeError(f"expected inputs (n, {kf_router_dim(self.ptr)}) and outputs (n, {k})")
        c = call_of(path, NULL, X.shape[0], NULL)
        if load is not None:
            counts = load
            if counts.shape[0] != e:
                raise ShapeError("load needs one counter per expert")
            c.y3 = &counts[0]
        if X.shape[0] == 0:
            return
        if c.y3 != NULL and threads > 1 and X.shape[0] > 1:  # split by run_checked
            import numpy
            chunk_load = numpy.zeros((chunk_count(X.shape[0], threads), e), numpy.uint64)
            per_chunk = chunk_load
            c.y3, c.y3_chunk = &per_chunk[0, 0], e * sizeof(uint64_t)
        c.x, c.x_row = &X[0, 0], X.shape[1] * sizeof(float)
        c.y, c.y_row = &experts[0, 0], k * sizeof(uint32_t)
        c.y2, c.y2_row = &weights[0, 0], k * sizeof(float)
        c.fx, c.fx_cols, c.fy, c.fy_cols = &X[0, 0], X.shape[1], &weights[0, 0], k
        run_checked(self.ptr, router_scratch, router_route, &c, "cannot route", self.guards, threads)
        if chunk_load is not None:
            load += chunk_load.sum(axis=0, dtype=numpy.uint64)


cdef int expert_of(object model, kf_expert *out) except -1:
    if isinstance(model, Net):
        out.kind = KF_EXPERT_FLOAT
        out.model = <void *>(<Net>model).ptr
    elif isinstance(model, QNet):
        out.kind = KF_EXPERT_QUANTIZED
        out.model = <void *>(<QNet>model).ptr
    else:
        raise ConfigError(f"an expert must be a float or Q8/Q16 network, got {type(model).__name__}")
    return 0


cdef class MoE:
    """Owner of one mixture of experts (kf_moe); keeps its router and experts alive."""
    cdef kf_moe *ptr
    cdef object keep
    cdef tuple guards  # of the router and the float experts, each once

    def __dealloc__(self):
        kf_moe_free(self.ptr)
        self.ptr = NULL

    def __cinit__(self, Router router not None, list experts, object shared):
        cdef kf_expert *table
        cdef kf_expert shared_expert
        cdef kf_diag diag
        cdef kf_status st
        cdef Py_ssize_t i, n = len(experts)
        self.keep = (router, list(experts), shared)
        guards = {id(router.guard): router.guard}
        for part in list(experts) + [shared]:
            if isinstance(part, Net):
                guards[id((<Net>part).guard)] = (<Net>part).guard
        self.guards = tuple(guards.values())
        table = <kf_expert *>malloc(max(n, 1) * sizeof(kf_expert))
        if table == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                expert_of(experts[i], &table[i])
            if shared is not None:
                expert_of(shared, &shared_expert)
            st = kf_moe_create(router.ptr, table, <uint32_t>n, &shared_expert if shared is not None else NULL,
                               &self.ptr, &diag)
        finally:
            free(table)
        check_diag(st, &diag, "invalid mixture")

    @property
    def num_output(self):
        return kf_moe_num_output(self.ptr)

    def run_fast(self, object x, object threads=None, object simd=None):
        """The fast path of run (see fast): outputs, or None."""
        return fast(x, threads, simd, kf_router_dim((<Router>self.keep[0]).ptr), kf_moe_num_output(self.ptr), False,
                    self.ptr, moe_scratch, moe_run, "cannot run the mixture", self.guards)

    def run(self, const float[:, ::1] X, float[:, ::1] Y, object experts, object weights, int path=0,
            uint32_t threads=1):
        cdef uint32_t k
        cdef uint32_t[:, ::1] ex
        cdef float[:, ::1] w
        cdef call c
        check_rows(X.shape[0], X.shape[1], Y.shape[0], Y.shape[1], kf_router_dim((<Router>self.keep[0]).ptr),
                   kf_moe_num_output(self.ptr))
        if X.shape[0] == 0:
            return
        c = float_call(path, X, Y)
        if experts is not None:
            ex, w = experts, weights
            k = kf_router_top_k((<Router>self.keep[0]).ptr)
            if ex.shape[0] != X.shape[0] or w.shape[0] != X.shape[0] or ex.shape[1] != k or w.shape[1] != k:
                raise ShapeError(f"expected experts and weights of shape ({X.shape[0]}, {k})")
            c.y2, c.y2_row = &ex[0, 0], ex.shape[1] * sizeof(uint32_t)
            c.y3, c.y3_row = &w[0, 0], w.shape[1] * sizeof(float)
        run_checked(self.ptr, moe_scratch, moe_run, &c, "cannot run the mixture", self.guards, threads)


# ---- training ----

cdef class Trainer:
    """Training state (slopes, steps, random stream) for networks of one shape."""

    def __cinit__(self, Net net not None, uint64_t seed):
        self.guard = net.guard  # the trainer changes with its network: one lock for both
        check(kf_trainer_create(net.ptr, seed, &self.ptr), "cannot create a trainer")

    def __dealloc__(self):
        kf_trainer_free(self.ptr)
        self.ptr = NULL

    def reset(self):
        with Hold(self.guard, True):
            kf_trainer_reset(self.ptr)

    def get_state(self, float[::1] steps, float[::1] slopes, float[::1] deltas):
        """Copy the history (kf_trainer_get_state) into three buffers of the network's
        connection count; returns (cleared, sarprop_epoch, seed, rng_state, rng_inc, mse_sum, num_mse,
        bit_fail)."""
        cdef kf_trainer_state state
        if slopes.shape[0] != steps.shape[0] or deltas.shape[0] != steps.shape[0]:
            raise ShapeError("the three state arrays differ in length")
        state.total_connections = <uint32_t>min(steps.shape[0], 0xFFFFFFFF)
        state.prev_steps = &steps[0] if steps.shape[0] else NULL
        state.prev_slopes = &slopes[0] if steps.shape[0] else NULL
        state.prev_deltas = &deltas[0] if steps.shape[0] else NULL
        self.guard.readable()
        check(kf_trainer_get_state(self.ptr, &state), f"cannot read the training state into {steps.shape[0]} values")
        return (state.cleared, state.sarprop_epoch, state.seed, state.rng_state, state.rng_inc, state.mse_sum,
                state.num_mse, state.bit_fail)

    def set_state(self, uint32_t cleared, uint32_t sarprop_epoch, uint64_t seed, uint64_t rng_state, uint64_t rng_inc,
                  float mse_sum, uint32_t num_mse, uint32_t bit_fail, const float[::1] steps, const float[::1] slopes,
                  const float[::1] deltas):
        """Replace the history (kf_trainer_set_state, which checks it)."""
        cdef kf_trainer_state state
        if slopes.shape[0] != steps.shape[0] or deltas.shape[0] != steps.shape[0]:
            raise ShapeError("the three state arrays differ in length")
        state.total_connections = <uint32_t>min(steps.shape[0], 0xFFFFFFFF)
        state.cleared = cleared
        state.sarprop_epoch = sarprop_epoch
        state.seed = seed
        state.rng_state = rng_state
        state.rng_inc = rng_inc
        state.mse_sum = mse_sum
        state.num_mse = num_mse
        state.bit_fail = bit_fail
        state.prev_steps = <float *>&steps[0] if steps.shape[0] else NULL
        state.prev_slopes = <float *>&slopes[0] if steps.shape[0] else NULL
        state.prev_deltas = <float *>&deltas[0] if steps.shape[0] else NULL
        with Hold(self.guard, True):
            check(kf_trainer_set_state(self.ptr, &state), "invalid training state")

    def epoch(self, Net net not None, const float[:, ::1] X, const float[:, ::1] Y):
        cdef kf_epoch_stats stats
        cdef kf_data d
        cdef kf_status st
        check_pairs(X, Y)
        d = data_view(X, Y)
        if net.guard is not self.guard:
            raise ConfigError("this trainer belongs to another network")
        self.guard.acquire(True)
        with nogil:
            st = kf_train_epoch(net.ptr, self.ptr, &d, &stats)
        self.guard.release(True)
        check(st, "cannot train")
        return stats.mse, stats.bit_fail

    def sample(self, Net net not None, const float[::1] x, const float[::1] y):
        """One incremental step; the error accumulated since the last epoch or reset_mse after it."""
        cdef kf_status st
        cdef kf_epoch_stats stats
        if x.shape[0] != kf_net_num_input(net.ptr) or y.shape[0] != kf_net_num_output(net.ptr):
            raise ShapeError(f"expected {kf_net_num_input(net.ptr)} inputs and {kf_net_num_output(net.ptr)} outputs, "
                             f"got {x.shape[0]} and {y.shape[0]}")
        if net.guard is not self.guard:
            raise ConfigError("this trainer belongs to another network")
        self.guard.acquire(True)
        with nogil:
            st = kf_train_sample(net.ptr, self.ptr, &x[0], &y[0])
            if st == KF_OK:
                st = kf_trainer_get_mse(self.ptr, &stats)
        self.guard.release(True)
        check(st, "cannot train")
        return stats.mse, stats.bit_fail

    def reset_mse(self):
        with Hold(self.guard, True):
            kf_trainer_reset_mse(self.ptr)


# ---- training data ----

def parse_data(const unsigned char[::1] text, str source):
    """Parse FANN .data text; returns (num_data, num_input, num_output, inputs, outputs), the
    arrays as bytearrays of float32 values."""
    cdef kf_data *d = NULL
    cdef kf_diag diag
    cdef kf_status st
    cdef const char *p = <const char *>&text[0] if text.shape[0] > 0 else NULL
    cdef size_t n = text.shape[0]
    cdef Py_ssize_t n_in, n_out
    with nogil:
        st = kf_data_parse(p, n, &d, &diag)
    check_diag(st, &diag, source)
    try:
        n_in = <Py_ssize_t>d.num_data * d.num_input * sizeof(float)
        n_out = <Py_ssize_t>d.num_data * d.num_output * sizeof(float)
        inputs = bytearray((<char *>d.input)[:n_in])
        outputs = bytearray((<char *>d.output)[:n_out])
        return d.num_data, d.num_input, d.num_output, inputs, outputs
    finally:
        kf_free(d)


def format_data(const float[:, ::1] X, const float[:, ::1] Y):
    """FANN .data text for inputs X and outputs Y."""
    cdef char *text = NULL
    cdef size_t n = 0
    cdef kf_data d
    cdef kf_status st
    check_pairs(X, Y)
    d = data_view(X, Y)
    with nogil:
        st = kf_data_format(&d, &text, &n)
    check(st, "cannot write the data")
    return take_text(text, n)


def shuffle_data(float[:, ::1] X, float[:, ::1] Y, uint64_t seed):
    """Permute the rows of X and Y in place, together."""
    cdef kf_data d
    check_pairs(X, Y)
    d = data_view(X, Y)
    with nogil:
        kf_data_shuffle(&d, seed)


def scale_data(float[:, ::1] X, float lo, float hi):
    """Min-max scale every value of X to [lo, hi] in place (one range for the whole array)."""
    cdef kf_data d
    cdef kf_status st
    cdef float[:, ::1] none = X[:0, :0]
    d = data_view(X, none)
    d.num_output = 0
    st = kf_data_scale(&d, 0, lo, hi)
    if st == KF_E_ARG:
        raise error_for_status(st, f"cannot scale the data to [{lo:g}, {hi:g}]: the low end must be below the high end")
    if st == KF_E_NUMERIC and isfinite(lo) and isfinite(hi):
        raise error_for_status(st, "cannot scale the data: its values are all equal (no range to map) or not finite")
    check(st, f"cannot scale the data to [{lo:g}, {hi:g}]")


# ---- cascade training ----

cdef class Random:
    """A stream of draws in 0 .. RAND_MAX (kf_random): glibc's rand() after srand(seed)
    (``Random(seed, glibc=True)``) or the library's own PCG32 stream. Cascade training draws
    from it and moves it on, as libfann's rand() moves on."""

    RAND_MAX = KF_RAND_MAX

    def __cinit__(self, uint64_t seed=0, bint glibc=True):
        if glibc:
            if seed > 0xFFFFFFFF:
                raise error_for_status(KF_E_ARG, f"srand takes an unsigned int seed (0 .. 4294967295), got {seed}")
            kf_random_glibc(&self.state, <uint32_t>seed)
        else:
            kf_random_pcg(&self.state, seed)

    @property
    def glibc(self):
        return self.state.kind == 1

    def next(self):
        """The next draw (rand())."""
        return kf_random_next(&self.state)

    def fill(self, uint32_t[::1] out):
        """The next len(out) draws into out."""
        cdef Py_ssize_t i
        with nogil:
            for i in range(out.shape[0]):
                out[i] = kf_random_next(&self.state)

    def uniform(self, float lo, float hi):
        """FANN's fann_rand(lo, hi) over the next draw."""
        return kf_random_uniform(&self.state, lo, hi)

    def get_state(self):
        """The stream's state as bytes (set_state takes it back)."""
        return (<char *>&self.state)[:sizeof(kf_random)]

    def set_state(self, const unsigned char[::1] state):
        if state.shape[0] != sizeof(kf_random):
            raise error_for_status(KF_E_FORMAT, f"a random state holds {sizeof(kf_random)} bytes, got {state.shape[0]}")
        memcpy(&self.state, &state[0], sizeof(kf_random))
        if self.state.kind > 1:
            raise error_for_status(KF_E_FORMAT, f"unknown random stream kind {self.state.kind}")


cdef class _Reporter:
    """The Python callback of a cascade run and the exception it raised, if any."""
    cdef object callback
    cdef object error


cdef int cascade_report(const kf_cascade_report *r, void *ctx) noexcept with gil:
    cdef _Reporter reporter = <_Reporter>ctx
    try:
        return 1 if reporter.callback((r.neurons, r.epochs, r.mse, r.bit_fail, r.activation, r.steepness)) else 0
    except BaseException as exc:  # raised again once the C call returns
        reporter.error = exc
        return 1


def cascade_train(Net net not None, const float[:, ::1] X, const float[:, ::1] Y, uint32_t max_neurons,
                  uint32_t neurons_between_reports, float desired_error, Random random not None, object callback):
    """Cascade2 training of net on (X, Y): returns (grown Net, final report), the report as
    (neurons, epochs, mse, bit_fail, activation, steepness); callback, when not None, receives
    such reports and stops the growth by returning True."""
    cdef kf_data d
    cdef kf_cascade_options opt
    cdef kf_cascade_report final
    cdef kf_net *out = NULL
    cdef kf_diag diag
    cdef kf_status st
    cdef _Reporter reporter = _Reporter()
    cdef Net source
    check_pairs(X, Y)
    source = net.copy()  # a copy taken while no change runs; the callback may use net meanwhile
    d = data_view(X, Y)
    reporter.callback = callback
    opt.max_neurons = max_neurons
    opt.neurons_between_reports = neurons_between_reports
    opt.desired_error = desired_error
    opt.random = &random.state
    opt.callback = NULL
    if callback is not None:
        opt.callback = cascade_report
    opt.ctx = <void *>reporter
    with nogil:
        st = kf_cascade_train(source.ptr, &d, &opt, &out, &final, &diag)
    if reporter.error is not None:
        kf_net_free(out)
        raise reporter.error
    check_diag(st, &diag, "cannot cascade-train")
    return Net.wrap(out), (final.neurons, final.epochs, final.mse, final.bit_fail, final.activation, final.steepness)
