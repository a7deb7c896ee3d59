"""numba kernels, one family per module (sort, strings, merge, codecs, ...).

Importing this package does not import numba; importing one of its modules does
(``from mergetree.kernels import sort``). Every kernel is ``@numba.njit(nogil=True, cache=True)``,
a pure function over arrays, with a plain-numpy twin that the tests compare it against.
"""
