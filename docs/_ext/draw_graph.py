"""Draw the autograd graph behind a tensor with matplotlib (no Graphviz needed).

``draw_graph(loss, names={"x": x, "w": w})`` walks ``._prev`` from ``loss`` back to the
leaves and lays the tensors out in columns: a leaf in the first column, every other tensor
one column right of its deepest parent. Leaves are green when they require a gradient and
grey when they are constants; results of ops are blue, labelled with the op's name; arrows
run the way the forward pass did. With ``gradients=True`` each tensor that received a
``.grad`` also shows it (small tensors only).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def _nodes(root) -> list:
    """Every tensor reachable through ``_prev``, parents before children."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in node._prev if id(parent) not in seen)
    return order


def _label(node, names: dict, gradients: bool) -> str:
    name = names.get(id(node))
    shape = tuple(node.shape)
    if node._prev:
        text = node._op + ("" if name is None else f"\n{name}")
    else:
        text = name if name is not None else ("leaf" if node.requires_grad else "constant")
    text += f"\n{shape}" if shape else ""
    if gradients and node.grad is not None and node.grad.numel() <= 4:
        values = ", ".join(f"{v:.3g}" for v in np.ravel(node.grad.numpy()))
        text += f"\ngrad [{values}]"
    return text


def draw_graph(root, names: dict | None = None, gradients: bool = False, ax=None,
               title: str | None = None):
    """Draw the graph that produced ``root``; ``names`` maps a label to a tensor."""
    names = {id(tensor): label for label, tensor in (names or {}).items()}
    order = _nodes(root)
    depth: dict[int, int] = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for p in node._prev), default=-1)
    columns: dict[int, list] = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    position = {}
    for column, members in columns.items():
        for row, node in enumerate(members):
            position[id(node)] = (column * 2.2, (len(members) - 1) / 2 - row)
    if ax is None:
        width = 2.2 * len(columns) + 0.5
        height = 1.3 * max(len(m) for m in columns.values()) + 0.9
        _, ax = plt.subplots(figsize=(min(width, 11), max(height, 2.2)))
    boxes = {}
    for node in order:
        x, y = position[id(node)]
        leaf = not node._prev
        colour = ("#d9f2d9" if node.requires_grad else "#eeeeee") if leaf else "#dde8f7"
        boxes[id(node)] = ax.text(x, y, _label(node, names, gradients), ha="center",
                                  va="center", fontsize=9, zorder=2,
                                  bbox=dict(boxstyle="round,pad=0.5", fc=colour, ec="0.3"))
    for node in order:  # drawn after the boxes, so that they clip at the boxes' edges
        for parent in node._prev:
            ax.annotate("", xy=position[id(node)], xytext=position[id(parent)], zorder=3,
                        arrowprops=dict(arrowstyle="-|>", color="0.35", lw=1.2,
                                        mutation_scale=14, shrinkA=3, shrinkB=3,
                                        patchA=boxes[id(parent)].get_bbox_patch(),
                                        patchB=boxes[id(node)].get_bbox_patch()))
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 1.1, max(xs) + 1.1)
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.9)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
