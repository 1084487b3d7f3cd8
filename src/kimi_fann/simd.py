"""Which SIMD path runs the kernels (see KIMI_FANN_SIMD). The paths' names come from the C core
(``kf_simd_name``): a path added there appears here without a change."""

from __future__ import annotations

from . import _core

__all__ = ["simd_path", "simd_info", "path_number", "PATHS"]

#: Names of the SIMD paths this package knows, in the core's order ("auto" excluded).
PATHS: tuple[str, ...] = _core.SIMD_PATHS
# Checked once at import: a KIMI_FANN_SIMD that names an unknown or unsupported path is an error.
_ACTIVE = _core.simd_active()


def simd_path() -> str:
    """The SIMD path the integer kernels run on (one of :data:`PATHS`: ``"scalar"``,
    ``"avx2"``, ...); the best one the CPU supports unless KIMI_FANN_SIMD forces one.

    Returns
    -------
    str

    Raises
    ------
    ConfigError
        At import, if KIMI_FANN_SIMD names a path that is unknown or that this CPU lacks.

    Examples
    --------
    >>> import kimi_fann as kf
    >>> kf.simd_path() in kf.simd_info()["supported"]
    True
    """
    return PATHS[_ACTIVE - 1]


def simd_info() -> dict[str, list[str] | str]:
    """Paths built into this package, paths this CPU supports, and the active one.

    Returns
    -------
    dict
        ``{"built": [...], "supported": [...], "active": name}``.

    Examples
    --------
    >>> import kimi_fann as kf
    >>> info = kf.simd_info()
    >>> "scalar" in info["supported"] and info["active"] in info["supported"]
    True
    """
    return {
        "built": [name for i, name in enumerate(PATHS, start=1) if _core.simd_built(i)],
        "supported": [PATHS[i - 1] for i in sorted(_core.SIMD_SUPPORTED)],
        "active": simd_path(),
    }


def path_number(name: str | None) -> int:
    """kf_simd number of a path name (None: the active path).

    Parameters
    ----------
    name : str or None

    Returns
    -------
    int

    Raises
    ------
    ConfigError
        For an unknown path name, or a path this build or CPU cannot run.

    Examples
    --------
    >>> from kimi_fann.simd import path_number
    >>> path_number(None)
    0
    """
    return _core.path_number(name)
