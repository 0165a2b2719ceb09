"""Winograd's minimal filtering F(2x2, 3x3): stride-1 3x3 convolutions with 16
multiplications per 2x2 block of outputs (and pair of channels) instead of 36.

For a 4x4 tile d of the padded input and a 3x3 filter g, the 2x2 tile of their correlation
is (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016)

    Y = A^T [(G g G^T) * (B^T d B)] A            (* elementwise, on 4x4 arrays)

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

Summed over input channels, the 16 elementwise products at each position xi of the 4x4
transformed tile become 16 matrix products over all tiles at once:

    M[xi] = U[xi] @ V[xi],   U[xi] (O, C) = (G g G^T)[xi],   V[xi] (C, tiles) = (B^T d B)[xi]

and y's tiles are A^T M A. The transforms only add and subtract (G also halves), so the
result is the convolution up to float rounding (the tests bound it against float64).

The gradients are the adjoints of the same three steps (nothing is differentiated here:
``ops/conv.py`` calls these functions from its primitives, whose formulas stay the
definition). With Z = A dy A^T, the adjoint of the output transform,

    dx = In^T(U^T @ Z)                 (In^T: the adjoint of d -> B^T d B, tiles overlap-added)
    dw = G^T [sum over tiles of Z[xi] V[xi]^T] G

so the input gradient is the forward run backwards (``winograd_adjoint``, which is also
conv_transpose2d with stride 1), and the weight gradient is 16 products Z[xi] @ V[xi]^T,
F(3x3, 2x2) with dy as the filter (``winograd_weight``).

Layout. Tiles start every 2 rows and columns, so the input is split into its four parity
planes, Q[r, s][c, n, y, x] = x_pad[n, c, 2y + r, 2x + s], each (tiles + 1) x (tiles + 1)
per image. Flattened over (c, n, y, x), the tile rows a = 0..3 of tile p are Q[a % 2] at
position p + (a // 2) * (tiles_x + 1), and its columns a shift of 0 or 1: every transform
step is one NumPy operation over a whole block of channels and images, with contiguous
operands. Positions on the last row or column of a plane are not tiles: what is computed
there is dropped (the output transform writes only valid tiles, and dy is zero there).
The batch is worked through a few images at a time (``_CHUNK_BYTES``), so that a block's
transformed arrays stay in cache between the steps.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .window import _Window
from .workspace import workspace as _workspace

# The transforms cost passes over C + O planes per tile, the products save work in
# proportion to C * O: below this many input or output channels the transforms cost more
# than they save (measured: benchmarks/RESULTS.md, "Winograd against the direct methods").
_WINOGRAD_MIN_CHANNELS = 32

# The planes hold (tiles_y + 1) * (tiles_x + 1) positions per image for Ho * Wo / 4
# outputs' worth of tiles (the waste: 1.16 at 28x28, 1.31 at 14x14 with padding 1, 1.62
# for a 13x13 image without padding); the most each channel count pays for, smallest
# channel count first.
_WINOGRAD_MAX_WASTE = ((32, 1.2), (64, 1.4))

# The images of a block: about this many bytes of transformed input (16 * C * plane per
# image), so that a block's arrays stay in the caches between the transform steps.
_CHUNK_BYTES = 1 << 20

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def winograd_applies(window: _Window, size: Sequence[int], channels: int, out_channels: int,
                     batch: int, dtype: np.dtype) -> bool:
    """Whether the convolution of (batch, channels, *size) float images by a (out_channels,
    channels, 3, 3) kernel in ``window`` goes through F(2x2, 3x3): stride 1, no dilation,
    no groups, and enough channels for its waste (``_WINOGRAD_MIN_CHANNELS``,
    ``_WINOGRAD_MAX_WASTE``). Its gradients take the same way (same shapes)."""
    fewest = min(channels, out_channels)
    if (window.kernel != (3, 3) or window.stride != (1, 1) or window.dilation != (1, 1)
            or window.groups != 1 or batch < 1 or np.dtype(dtype) not in _FLOATS
            or fewest < _WINOGRAD_MIN_CHANNELS):
        return False
    tiling = _Tiling(1, size, window.padding, 1, 1)
    if min(tiling.out_size) < 1:
        return False
    waste = tiling.plane / (tiling.out_size[0] * tiling.out_size[1] / 4)
    allowed = max((most for least, most in _WINOGRAD_MAX_WASTE if fewest >= least),
                  default=0.0)
    return waste <= allowed


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def all_finite(*arrays: np.ndarray) -> bool:
    """Whether the arrays hold no inf or NaN. Winograd's transforms mix a tile's values, so
    an infinity gives NaN where the direct sum gives +-inf (inf - inf in B^T d B): such
    inputs keep the direct methods."""
    return all(bool(np.isfinite(a.max()) and np.isfinite(a.min())) for a in arrays)


class _Tiling:
    """Where the 2x2 output tiles of a 3x3 stride-1 convolution fall, and the parity planes
    that hold them (see the module docstring): ``tiles`` (ty, tx) = ceil(Ho / 2),
    ceil(Wo / 2); planes of ``plane_shape`` (ty + 1, tx + 1); blocks of ``chunk`` images."""

    def __init__(self, batch: int, size: Sequence[int], padding: tuple, channels: int,
                 itemsize: int) -> None:
        (self.top, bottom), (self.left, right) = padding
        self.batch, self.size = batch, (int(size[0]), int(size[1]))
        self.out_size = (self.size[0] + self.top + bottom - 2,
                         self.size[1] + self.left + right - 2)
        self.tiles = (-(-self.out_size[0] // 2), -(-self.out_size[1] // 2))
        self.plane_shape = (self.tiles[0] + 1, self.tiles[1] + 1)
        self.plane = self.plane_shape[0] * self.plane_shape[1]
        per_image = 16 * channels * self.plane * itemsize
        self.chunk = max(1, min(batch, _CHUNK_BYTES // max(per_image, 1)))
        self.row = self.plane_shape[1]  # the flat shift to the next tile row

    def chunks(self) -> Iterator[tuple[int, int]]:
        """(first, last) images of each block."""
        for first in range(0, self.batch, self.chunk):
            yield first, min(self.batch, first + self.chunk)

    def parity_blocks(self) -> Iterator[tuple[int, int, slice, slice, int, int]]:
        """(r, s, rows, cols, y0, x0): the unpadded image's rows[rows] and cols[cols] are the
        ones that land on parity plane (r, s), starting at plane position (y0, x0)."""
        for r in range(2):
            for s in range(2):
                first_row, first_col = (r - self.top) % 2, (s - self.left) % 2
                yield (r, s, slice(first_row, None, 2), slice(first_col, None, 2),
                       (first_row + self.top) // 2, (first_col + self.left) // 2)


def _filter_transform(weight: np.ndarray) -> np.ndarray:
    """U[(a, b), o, c] = (G w[o, c] G^T)[a, b]: (16, O, C)."""
    u = np.einsum("ai,ocij,bj->aboc", _G, weight, _G, optimize=True)
    return np.ascontiguousarray(u.reshape((16,) + weight.shape[:2]), dtype=weight.dtype)


def _from_tiles(sums: np.ndarray, out_channels: int, channels: int) -> np.ndarray:
    """dw[o, c] = G^T S[o, c] G for S (16, O, C) summed over the tiles: (O, C, 3, 3)."""
    s = sums.reshape(4, 4, out_channels, channels)
    return np.einsum("ar,aboc,bs->ocrs", _G, s, _G, optimize=True).astype(sums.dtype)


# -- the input transform V = B^T d B ------------------------------------------------------------

class _InputTransform:
    """V for a block of images, in buffers made once per convolution."""

    def __init__(self, tiling: _Tiling, channels: int, dtype: np.dtype) -> None:
        self.tiling, self.channels = tiling, channels
        length = channels * tiling.chunk * tiling.plane
        # zero once: the block copies write the same interior positions every time, and
        # the last row or column of a plane, and the margin, are read by dropped positions
        self.planes = np.zeros((2, 2, length + tiling.row + 1), dtype)
        self.rows = np.empty((4, 2, length + 1), dtype)
        self.out = np.empty((16, channels, tiling.chunk * tiling.plane), dtype)

    def __call__(self, x: np.ndarray, first: int, last: int) -> np.ndarray:
        """V[(a, b), c, p] for the images first:last, p their flat tile positions."""
        tiling, channels = self.tiling, self.channels
        count, (yp, xp) = last - first, tiling.plane_shape
        length = channels * tiling.chunk * tiling.plane
        for r, s, rows, cols, y0, x0 in tiling.parity_blocks():
            source = x[first:last, :, rows, cols]
            planes = self.planes[r, s, :length].reshape(channels, tiling.chunk, yp, xp)
            planes[:, :count, y0:y0 + source.shape[2], x0:x0 + source.shape[3]] = \
                source.transpose(1, 0, 2, 3)
        # rows: e_a = (B^T d)[a] from d rows 0..3 = planes[0], planes[1] at p, then at p + row
        q0, q1, e, shift = self.planes[0], self.planes[1], self.rows, tiling.row
        span = length + 1
        np.subtract(q0[:, :span], q0[:, shift:shift + span], out=e[0])
        np.add(q1[:, :span], q0[:, shift:shift + span], out=e[1])
        np.subtract(q0[:, shift:shift + span], q1[:, :span], out=e[2])
        np.subtract(q1[:, :span], q1[:, shift:shift + span], out=e[3])
        # columns: the same combinations of e's columns, planes e[:, 0], e[:, 1] at p, p + 1
        v = self.out.reshape(4, 4, length)
        np.subtract(e[:, 0, :length], e[:, 0, 1:], out=v[:, 0])
        np.add(e[:, 1, :length], e[:, 0, 1:], out=v[:, 1])
        np.subtract(e[:, 0, 1:], e[:, 1, :length], out=v[:, 2])
        np.subtract(e[:, 1, :length], e[:, 1, 1:], out=v[:, 3])
        return self.out[:, :, :count * tiling.plane]


# -- the gradient's transform Z = A dy A^T -----------------------------------------------------

class _GradTransform:
    """Z for a block of images of dy: Z[(a, b)] = sum_ij A[a, i] A[b, j] dy_tile[i, j] with
    A = [[1, 0], [1, 1], [1, -1], [0, -1]], zero at positions that are not tiles."""

    def __init__(self, tiling: _Tiling, out_channels: int, dtype: np.dtype) -> None:
        self.tiling, self.out_channels = tiling, out_channels
        self.out = np.empty((16, out_channels, tiling.chunk * tiling.plane), dtype)

    def __call__(self, dy: np.ndarray, first: int, last: int) -> np.ndarray:
        tiling, count = self.tiling, last - first
        (yp, xp), width = tiling.plane_shape, count * tiling.plane
        z = self.out[:, :, :width]
        tiles = z.reshape((4, 4, self.out_channels, count, yp, xp))
        # the corners: Z[0, 0] = dy00, Z[0, 3] = -dy01, Z[3, 0] = -dy10, Z[3, 3] = dy11
        for i, a in ((0, 0), (1, 3)):
            for j, b in ((0, 0), (1, 3)):
                source = dy[first:last, :, i::2, j::2].transpose(1, 0, 2, 3)
                target = tiles[a, b]
                h, w = source.shape[2:]
                target[:, :, h:] = 0
                target[:, :, :h, w:] = 0
                if i != j:
                    np.negative(source, out=target[:, :, :h, :w])
                else:
                    np.copyto(target[:, :, :h, :w], source)
        # rows 1, 2 of columns 0, 3, then columns 1, 2 of every row: Z1 = Z0 - Z3, Z2 = Z0 + Z3
        rows = z.reshape(4, 4, self.out_channels, width)
        np.subtract(rows[0, 0::3], rows[3, 0::3], out=rows[1, 0::3])
        np.add(rows[0, 0::3], rows[3, 0::3], out=rows[2, 0::3])
        np.subtract(rows[:, 0], rows[:, 3], out=rows[:, 1])
        np.add(rows[:, 0], rows[:, 3], out=rows[:, 2])
        return z


# -- the three convolutions ---------------------------------------------------------------------

def winograd_conv(x: np.ndarray, weight: np.ndarray, window: _Window) -> np.ndarray:
    """y = C(x, w) for a 3x3 stride-1 convolution without bias: per block of images,
    V = B^T d B, M[xi] = U[xi] @ V[xi], then y's 2x2 tiles A^T M A written in place."""
    n, channels = x.shape[:2]
    out_channels = weight.shape[0]
    tiling = _Tiling(n, x.shape[2:], window.padding, max(channels, out_channels), x.itemsize)
    u = _filter_transform(weight)
    transform = _InputTransform(tiling, channels, x.dtype)
    y = _workspace.empty((n, out_channels) + tiling.out_size, x.dtype)
    width = tiling.chunk * tiling.plane
    products = np.empty(16 * out_channels * width, x.dtype)
    tiles = np.empty(4 * out_channels * width, x.dtype)
    output = _OUTPUT.astype(x.dtype)
    for first, last in tiling.chunks():
        v = transform(x, first, last)
        size = 16 * out_channels * v.shape[2]
        m = products[:size].reshape(16, out_channels, v.shape[2])  # contiguous: one block
        np.matmul(u, v, out=m)
        np.matmul(output, m.reshape(16, -1), out=tiles[:size // 4].reshape(4, -1))
        _to_output(tiles[:size // 4], y, first, last, tiling)
    return y


# A^T, and the output transform Y = A^T M A as one (4, 16) matrix on the flattened tile:
# Y[i, j] = sum_ab A^T[i, a] A^T[j, b] M[a, b]. One product over a block's 16 planes reads
# each plane once, where adding them pairwise passes over them several times.
_A_T = np.array([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]])
_OUTPUT = np.einsum("ia,jb->ijab", _A_T, _A_T).reshape(4, 16)


def _to_output(tiles: np.ndarray, y: np.ndarray, first: int, last: int,
               tiling: _Tiling) -> None:
    """Copy the output tiles Y[i, j] (4, O, count * plane) to y[first:last]'s rows i::2 and
    columns j::2, dropping the positions that are not tiles."""
    count, (yp, xp) = last - first, tiling.plane_shape
    planes = tiles.reshape(2, 2, y.shape[1], count, yp, xp)
    for i in range(2):
        for j in range(2):
            target = y[first:last, :, i::2, j::2].transpose(1, 0, 2, 3)
            h, w = target.shape[2:]
            np.copyto(target, planes[i, j, :, :, :h, :w])


def winograd_weight(x: np.ndarray, dy: np.ndarray, window: _Window) -> np.ndarray:
    """dw = W(x, dy) = G^T [sum over tiles Z[xi] V[xi]^T] G: the 16 products summed block
    by block, each block's V and Z made afresh (cheaper than keeping the forward's)."""
    n, channels = x.shape[:2]
    out_channels = dy.shape[1]
    tiling = _Tiling(n, x.shape[2:], window.padding, max(channels, out_channels), x.itemsize)
    transform = _InputTransform(tiling, channels, x.dtype)
    grad_transform = _GradTransform(tiling, out_channels, x.dtype)
    sums = np.zeros((16, out_channels, channels), x.dtype)
    part = np.empty_like(sums)
    for first, last in tiling.chunks():
        v = transform(x, first, last)
        z = grad_transform(dy, first, last)
        np.matmul(z, v.transpose(0, 2, 1), out=part)
        sums += part
    return _from_tiles(sums, out_channels, channels)


def winograd_adjoint(dy: np.ndarray, weight: np.ndarray, window: _Window,
                     size: Sequence[int]) -> np.ndarray:
    """dx = T(dy, w), the input gradient of the convolution of (H, W) = ``size`` images:
    per block, P[xi] = U[xi]^T @ Z[xi], then the adjoint of the input transform adds each
    tile's B P B^T into the parity planes it was read from, and the padding is cropped."""
    n, out_channels = dy.shape[:2]
    channels = weight.shape[1]
    tiling = _Tiling(n, size, window.padding, max(channels, out_channels), dy.itemsize)
    u_t = np.ascontiguousarray(_filter_transform(weight).transpose(0, 2, 1))  # (16, C, O)
    grad_transform = _GradTransform(tiling, out_channels, dy.dtype)
    adjoint = _InputAdjoint(tiling, channels, dy.dtype)
    dx = _workspace.empty((n, channels) + tiling.size, dy.dtype)
    for first, last in tiling.chunks():
        z = grad_transform(dy, first, last)
        np.matmul(u_t, z, out=adjoint.products(last - first))
        adjoint.to_image(dx, first, last)
    return dx


def winograd_backward(x: np.ndarray, dy: np.ndarray, weight: np.ndarray,
                      window: _Window) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dw) = (T(dy, w), W(x, dy)) in one pass over the batch: ``winograd_adjoint``
    and ``winograd_weight`` sharing each block's Z, which both need."""
    n, channels = x.shape[:2]
    out_channels = dy.shape[1]
    tiling = _Tiling(n, x.shape[2:], window.padding, max(channels, out_channels), x.itemsize)
    u_t = np.ascontiguousarray(_filter_transform(weight).transpose(0, 2, 1))
    transform = _InputTransform(tiling, channels, x.dtype)
    grad_transform = _GradTransform(tiling, out_channels, x.dtype)
    adjoint = _InputAdjoint(tiling, channels, x.dtype)
    dx = _workspace.empty(x.shape, x.dtype)
    sums = np.zeros((16, out_channels, channels), x.dtype)
    part = np.empty_like(sums)
    for first, last in tiling.chunks():
        z = grad_transform(dy, first, last)
        np.matmul(z, transform(x, first, last).transpose(0, 2, 1), out=part)
        sums += part
        np.matmul(u_t, z, out=adjoint.products(last - first))
        adjoint.to_image(dx, first, last)
    return dx, _from_tiles(sums, out_channels, channels)


class _InputAdjoint:
    """In^T: from P (16, C, tile positions) back to the parity planes, then to the image.

    The input transform reads tile position p from planes at p, p + 1 (columns) and
    p + row, p + row + 1 (rows); its adjoint gathers at p, p - 1 and p - row, which the
    leading ``margin`` of zeros covers. P is zero at positions that are not tiles (Z is),
    so nothing spills from one image or channel into the next.

    columns (for each tile row a, from P[a, 0..3]):
        e0[p] = P0[p] + (P1 + P2 - P0)[p - 1],   e1[p] = (P1 - P2 + P3)[p] - P3[p - 1]
    rows (from e[0..3], each holding both column parities):
        q0[p] = e0[p] + (e1 + e2 - e0)[p - row],  q1[p] = (e1 - e2 + e3)[p] - e3[p - row]
    """

    def __init__(self, tiling: _Tiling, channels: int, dtype: np.dtype) -> None:
        self.tiling, self.channels = tiling, channels
        self.margin = tiling.row + 1
        length = self.margin + channels * tiling.chunk * tiling.plane
        self.p = np.zeros((16, length), dtype)
        self.e = np.zeros((4, 2, length), dtype)
        self.work = np.empty((4, length), dtype)
        self.q = np.empty((2, 2, channels * tiling.chunk * tiling.plane), dtype)

    def products(self, count: int) -> np.ndarray:
        """Where P = U^T @ Z for ``count`` images goes: (16, C, count * plane)."""
        width = count * self.tiling.plane
        return self.p[:, self.margin:self.margin + self.channels * width].reshape(
            16, self.channels, width)

    def to_image(self, dx: np.ndarray, first: int, last: int) -> None:
        tiling, margin = self.tiling, self.margin
        count, (yp, xp) = last - first, tiling.plane_shape
        length = self.channels * count * tiling.plane
        end = margin + length
        p, e, work = self.p.reshape(4, 4, -1), self.e, self.work

        def at(a: np.ndarray, back: int = 0) -> np.ndarray:
            return a[..., margin - back:end - back]

        np.add(p[:, 1, :end], p[:, 2, :end], out=work[:, :end])
        work[:, :end] -= p[:, 0, :end]
        np.add(at(p[:, 0]), at(work, 1), out=at(e[:, 0]))
        np.subtract(p[:, 1, :end], p[:, 2, :end], out=work[:, :end])
        work[:, :end] += p[:, 3, :end]
        np.subtract(at(work), at(p[:, 3], 1), out=at(e[:, 1]))
        pair, row = work[:2], tiling.row
        np.add(e[1, :, :end], e[2, :, :end], out=pair[:, :end])
        pair[:, :end] -= e[0, :, :end]
        np.add(at(e[0]), at(pair, row), out=self.q[0, :, :length])
        np.subtract(e[1, :, :end], e[2, :, :end], out=pair[:, :end])
        pair[:, :end] += e[3, :, :end]
        np.subtract(at(pair), at(e[3], row), out=self.q[1, :, :length])
        for r, s, rows, cols, y0, x0 in tiling.parity_blocks():
            target = dx[first:last, :, rows, cols]
            planes = self.q[r, s, :length].reshape(self.channels, count, yp, xp)
            target[...] = planes[:, :, y0:y0 + target.shape[2],
                                 x0:x0 + target.shape[3]].transpose(1, 0, 2, 3)
