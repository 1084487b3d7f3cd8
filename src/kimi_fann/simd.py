"""Which SIMD path runs the kernels (see KIMI_FANN_SIMD)."""

from __future__ import annotations

from . import _core
from .errors import ConfigError

__all__ = ["simd_path", "simd_info", "path_number"]

_NAMES = tuple(_core.simd_names())  # index = kf_simd; 0 is "auto"
# Checked once at import: a KIMI_FANN_SIMD that names an unknown or unsupported path is an error.
_ACTIVE = _core.simd_active()
_SUPPORTED = frozenset(i for i in range(1, len(_NAMES)) if _core.simd_supported(i))


def simd_path() -> str:
    """The SIMD path the integer kernels run on: ``"scalar"``, ``"avx2"``, ``"avx512"``,
    ``"amx"``, ``"neon"`` or ``"wasm"``; the best one the CPU supports unless KIMI_FANN_SIMD
    forces one.

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
    >>> kf.simd_path() in ("scalar", "avx2", "avx512", "amx", "neon", "wasm")
    True
    """
    return _NAMES[_ACTIVE]


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
        "built": [n for i, n in enumerate(_NAMES) if i and _core.simd_built(i)],
        "supported": [_NAMES[i] for i in sorted(_SUPPORTED)],
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
    if name is None:
        return 0
    if name not in _NAMES[1:]:
        raise ConfigError(f"unknown SIMD path {name!r}; expected one of {', '.join(_NAMES[1:])}")
    number = _NAMES.index(name)
    if number not in _SUPPORTED:
        raise ConfigError(f"SIMD path {name!r} is not supported by this build or CPU; "
                          f"supported: {', '.join(_NAMES[i] for i in sorted(_SUPPORTED))}")
    return number
