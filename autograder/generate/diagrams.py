"""The notebooks' diagrams, drawn by code: the neuron, the computation graph of logistic regression,
the one-hidden-layer network, the L-layer network and one layer's forward and backward caches.

Each is a hand-written SVG (``generate/svg.py``), the same bytes on every machine. A notebook
carries a figure in a markdown cell of its own, as a ``data:`` URI so that it renders offline in
JupyterLab, the classic notebook and nbconvert alike (JupyterLab renders no SVG cell attachment).
The cell is marked ``{"nndl": {"figure": name}}`` in its metadata; ``refresh`` rewrites every
marked cell from this module, and ``nndl generate`` runs it on each source notebook before nbgrader
builds the release, so the drawings here are the only source of the figures.
"""
import base64
from dataclasses import dataclass
from typing import Callable

import nbformat

from autograder.generate import svg
from autograder.generate.svg import BACKWARD, GRAY, INK, arrow, box, circle, lines, text

ORIGIN = "generate/diagrams.py"  # as a notebook names it: the word "autograder" stays out of a student's notebook
_CACHE = "#fff4d6"  # the fill of what the forward pass keeps for the backward pass
_BACK_FILL = "#fbeeec"


def neuron():
    """The neuron of logistic regression: n_x inputs, their weights, the bias, z, then the sigmoid."""
    cx, cy, r = 330, 140, 72
    body = []
    for y, name, weight in ((55, "x_{1}", "w_{1}"), (120, "x_{2}", "w_{2}"), (225, "x_{nₓ}", "w_{nₓ}")):
        dx, dy = cx - 60, cy - y
        length = (dx * dx + dy * dy) ** 0.5
        body.append(arrow(84, y + 24 * dy / length, cx - r * dx / length, cy - r * dy / length))
        body.append(text(150, y + 0.25 * dy - 8, weight, size=13))
        body.append(circle(60, y, 24, name))
    body.append(text(60, 178, "⋮", size=20))
    body.append(f'<line x1="{cx}" y1="{cy - r}" x2="{cx}" y2="{cy + r}" stroke="{INK}" stroke-width="1"/>')
    body.append(circle(cx, cy, r, fill="none"))
    body.append(text(cx - 36, cy + 9, "Σ", size=26))
    body.append(text(cx + 36, cy + 9, "σ", size=26))
    body.append(text(cx, 28, "b", size=15))
    body.append(arrow(cx, 36, cx, cy - r - 2))
    body.append(arrow(cx + r, cy, 505, cy))
    body.append(text(515, cy + 5, "a = ŷ", size=16, anchor="start"))
    body.append(text(515, cy + 26, "the probability that y = 1", size=12, anchor="start", color=GRAY))
    body.append(text(cx, cy + r + 26, "z = w^{T}x + b,    a = σ(z) = 1 / (1 + e^{−z})", size=14))
    body.append(text(cx, 282, "x: (n_{x}, 1)     w: (n_{x}, 1)     b: a number     a: a number in (0, 1)",
                     size=12, color=GRAY))
    return 700, 300, body


def logistic_graph():
    """Logistic regression on one example as a computation graph: forward on top, backward beneath."""
    body = [text(20, 28, "forward: the loss, left to right", size=13, anchor="start", weight="bold")]
    for y, name in ((50, "x"), (100, "w"), (150, "b")):
        body.append(box(20, y, 70, 34, [name]))
        body.append(arrow(90, y + 17, 170, 117 + (y - 100) * 0.2))
    body.append(box(665, 20, 70, 34, ["y"]))
    body.append(arrow(700, 54, 700, 90))
    body.append(box(170, 92, 180, 50, ["z = w^{T}x + b"]))
    body.append(arrow(350, 117, 440, 117))
    body.append(text(395, 108, "z", size=13))
    body.append(box(440, 92, 140, 50, ["a = σ(z)"]))
    body.append(arrow(580, 117, 680, 117))
    body.append(text(630, 108, "a", size=13))
    body.append(box(680, 92, 140, 50, ["ℒ(a, y)"]))
    body.append(text(20, 210, "backward: the chain rule, right to left", size=13, anchor="start", weight="bold",
                     color=BACKWARD))
    red = {"fill": _BACK_FILL, "stroke": BACKWARD, "color": BACKWARD}
    body.append(box(165, 222, 190, 56, ["dw = x dz", "db = dz"], **red))
    body.append(box(415, 222, 190, 56, ["dz = da · a(1 − a)", "= a − y"], **red))
    body.append(box(665, 222, 170, 56, ["da = −y/a", "+ (1 − y)/(1 − a)"], **red))
    body.append(arrow(750, 142, 750, 220, color=BACKWARD))
    body.append(arrow(665, 250, 607, 250, color=BACKWARD))
    body.append(arrow(415, 250, 357, 250, color=BACKWARD))
    body.append(text(20, 310, "For all m examples at once: dw = (1/m) X (A − Y)^{T} and "
                     "db = (1/m) Σ_{i} (a^{(i)} − y^{(i)})", size=12, anchor="start", color=GRAY))
    return 900, 325, body


def one_hidden_layer():
    """The network of planar_classification: 2 inputs, 4 tanh units, 1 sigmoid unit."""
    inputs, hidden, output = [(120, 155), (120, 225)], [(360, 85 + 70 * i) for i in range(4)], (600, 190)
    edge = f'stroke="{GRAY}" stroke-width="1"'
    body = [f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" {edge}/>'
            for a, b in [(i, h) for i in inputs for h in hidden] + [(h, output) for h in hidden]]
    body += [circle(x, y, 24, f"x_{{{k}}}") for k, (x, y) in enumerate(inputs, start=1)]
    body += [circle(x, y, 26, "tanh", size=12) for x, y in hidden]
    body.append(circle(*output, 26, "σ", size=18))
    body.append(arrow(626, 190, 690, 190))
    body.append(text(698, 195, "ŷ = a^{[2]}", size=15, anchor="start"))
    body.append(text(240, 30, "W^{[1]}: (n_{h}, n_{x}),  b^{[1]}: (n_{h}, 1)", size=13))
    body.append(text(480, 30, "W^{[2]}: (n_{y}, n_{h}),  b^{[2]}: (n_{y}, 1)", size=13))
    for x, caption in ((120, ["input layer, n_{x} = 2", "X = A^{[0]}: (n_{x}, m)"]),
                       (360, ["hidden layer, n_{h} = 4 tanh units", "Z^{[1]}, A^{[1]}: (n_{h}, m)"]),
                       (600, ["output layer, 1 sigmoid unit", "Z^{[2]}, A^{[2]}: (n_{y}, m)"])):
        body.append(lines(x, 360, caption, size=13))
    return 800, 390, body


def L_layer_network():
    """An L-layer network as blocks: forward along the top, backward along the bottom, a cache between."""
    red = {"fill": _BACK_FILL, "stroke": BACKWARD, "color": BACKWARD}
    body = [text(20, 30, "forward: L_model_forward", size=13, anchor="start", weight="bold"),
            text(20, 282, "backward: L_model_backward", size=13, anchor="start", weight="bold", color=BACKWARD),
            text(48, 95, "X = A^{[0]}", size=13), arrow(88, 90, 120, 90),
            text(48, 225, "dA^{[0]}", size=13, color=BACKWARD)]
    blocks = [(120, "1", "RELU"), (460, "L−1", "RELU"), (680, "L", "SIGMOID")]
    for x, layer, activation in blocks:
        forward = [f"layer {layer}", f"LINEAR → {activation}", f"W^{{[{layer}]}}, b^{{[{layer}]}}"]
        body.append(box(x, 55, 150, 70, forward, size=13))
        body.append(arrow(x + 75, 127, x + 75, 183, color=GRAY, dashed=True))
        body.append(text(x + 82, 160, "cache", size=11, anchor="start", color=GRAY))
        body.append(box(x, 185, 150, 70, [f"layer {layer} backward", f"dW^{{[{layer}]}}, db^{{[{layer}]}}"],
                        size=13, **red))
    for x1, x2, name in ((270, 340, "1"), (390, 460, "L−2"), (610, 680, "L−1")):
        body.append(arrow(x1, 90, x2, 90))
        body.append(text((x1 + x2) / 2, 80, f"A^{{[{name}]}}", size=12))
        body.append(arrow(x2, 220, x1, 220, color=BACKWARD))
        body.append(text((x1 + x2) / 2, 244, f"dA^{{[{name}]}}", size=12, color=BACKWARD))
    body.append(text(365, 95, "⋯", size=18))
    body.append(text(365, 225, "⋯", size=18, color=BACKWARD))
    body.append(arrow(120, 220, 88, 220, color=BACKWARD))
    body.append(arrow(830, 90, 880, 90))
    body.append(text(855, 80, "A^{[L]}", size=12))
    body.append(box(880, 70, 100, 40, ["cost J"], size=13))
    body.append(arrow(930, 110, 930, 198, color=BACKWARD))
    body.append(box(880, 200, 100, 40, ["dA^{[L]}"], size=13, **red))
    body.append(arrow(880, 220, 830, 220, color=BACKWARD))
    body.append(text(20, 310, "A^{[l]}, dA^{[l]}: (n^{[l]}, m)      W^{[l]}, dW^{[l]}: (n^{[l]}, n^{[l−1]})      "
                     "b^{[l]}, db^{[l]}: (n^{[l]}, 1)      ReLU in layers 1 to L−1, sigmoid in layer L",
                     size=12, anchor="start", color=GRAY))
    return 1000, 325, body


def caches():
    """One layer l: what its forward functions store in the cache, and which backward function reads each part."""
    cache = {"fill": _CACHE, "stroke": GRAY, "dashed": True}
    red = {"fill": _BACK_FILL, "stroke": BACKWARD, "color": BACKWARD}
    body = [text(20, 30, "forward", size=13, anchor="start", weight="bold"),
            text(50, 85, "A^{[l−1]}", size=14), arrow(82, 80, 140, 80),
            box(140, 50, 220, 60, ["linear_forward", "Z = W A_{prev} + b"], size=13),
            arrow(360, 80, 430, 80), text(395, 71, "Z^{[l]}", size=12),
            box(430, 50, 180, 60, ["relu or sigmoid", "A^{[l]} = g(Z^{[l]})"], size=13),
            arrow(610, 80, 660, 80), text(666, 85, "A^{[l]}, on to layer l + 1", size=13, anchor="start"),
            box(140, 165, 220, 56, ["linear_cache", "(A^{[l−1]}, W^{[l]}, b^{[l]})"], size=13, **cache),
            box(430, 165, 180, 56, ["activation_cache", "Z^{[l]}"], size=13, **cache),
            lines(666, 193, ["cache = (linear_cache, activation_cache);",
                             "L_model_forward appends it to caches,",
                             "L_model_backward reads caches[l − 1]"], size=12, anchor="start", color=GRAY),
            text(20, 282, "backward", size=13, anchor="start", weight="bold", color=BACKWARD),
            box(140, 275, 220, 70, ["linear_backward", "dW = (1/m) dZ A_{prev}^{T}", "db, dA_{prev} = W^{T} dZ"],
                size=13, **red),
            box(430, 275, 180, 70, ["relu_backward or", "sigmoid_backward", "dZ = dA ∗ g′(Z)"], size=13, **red),
            arrow(660, 310, 612, 310, color=BACKWARD),
            text(666, 315, "dA^{[l]}, from layer l + 1", size=13, anchor="start", color=BACKWARD),
            arrow(430, 310, 362, 310, color=BACKWARD), text(396, 301, "dZ^{[l]}", size=12, color=BACKWARD),
            arrow(140, 310, 84, 310, color=BACKWARD), text(50, 315, "dA^{[l−1]}", size=14, color=BACKWARD),
            arrow(250, 345, 250, 372, color=BACKWARD),
            text(250, 390, "dW^{[l]}, db^{[l]}: into grads", size=13, color=BACKWARD)]
    for x in (250, 520):
        body.append(arrow(x, 110, x, 163, color=GRAY, dashed=True))  # the forward step stores its part
        body.append(arrow(x, 221, x, 273, color=GRAY, dashed=True))  # the backward step reads it
    body.append(text(257, 142, "stores", size=11, anchor="start", color=GRAY))
    body.append(text(257, 252, "read by", size=11, anchor="start", color=GRAY))
    return 960, 405, body


@dataclass(frozen=True)
class Figure:
    name: str  # the figure's file name, e.g. neuron.svg
    draw: Callable  # () -> (width, height, list of SVG elements)
    alt: str  # what the figure shows, for readers who cannot see it
    caption: str


FIGURES = {figure.name: figure for figure in (
    Figure("neuron.svg", neuron, "One neuron: the inputs, weighted by w and summed with the bias b into z, then the "
           "sigmoid, which gives a", r"One neuron: a weighted sum of the inputs plus a bias, $z = w^T x + b$, "
           r"then the sigmoid, $a = \sigma(z)$. Logistic regression is a network of this one unit."),
    Figure("logistic_graph.svg", logistic_graph, "The computation graph of logistic regression: x, w and b give z, "
           "z gives a, a and y give the loss; beneath it the derivatives da, dz, dw and db",
           "The computation graph of logistic regression for one example. The forward pass computes the loss "
           "from left to right; the backward pass applies the chain rule from right to left, and each step "
           "multiplies by the derivative of one box."),
    Figure("one_hidden_layer.svg", one_hidden_layer, "A network with 2 inputs, a hidden layer of 4 tanh units "
           "and one sigmoid output unit, every unit connected to every unit of the next layer",
           "The network of this assignment: $n_x = 2$ inputs, a hidden layer of $n_h = 4$ tanh units, one "
           "sigmoid output unit. Each line is one weight."),
    Figure("L_layer_network.svg", L_layer_network, "An L-layer network: L − 1 blocks LINEAR then RELU, a last "
           "block LINEAR then SIGMOID and the cost; beneath, the backward blocks from the last layer to the first",
           "An L-layer network. The forward pass (top) runs layers 1 to L and leaves a cache per layer; the "
           "backward pass (bottom) runs from the cost back to layer 1, reads each layer's cache, and gives "
           "$dW^{[l]}$ and $db^{[l]}$ of every layer."),
    Figure("caches.svg", caches, "Layer l forward: linear_forward stores (A_prev, W, b), the activation stores Z; "
           "layer l backward: the activation's backward function reads Z, linear_backward reads (A_prev, W, b)",
           "One layer $l$ in both directions. Each forward function stores what its backward partner needs: the "
           "linear cache $(A^{[l-1]}, W^{[l]}, b^{[l]})$ for `linear_backward`, the activation cache $Z^{[l]}$ "
           "for `relu_backward` or `sigmoid_backward`."),
)}

PLACES = {  # assignment -> the figures its source notebook carries, in order
    "python_basics": [],
    "logistic_regression": ["neuron.svg", "logistic_graph.svg"],
    "planar_classification": ["one_hidden_layer.svg"],
    "deep_nn_step_by_step": ["L_layer_network.svg", "caches.svg"],
    "deep_nn_application": ["L_layer_network.svg"],
}


def generated_line(name):
    """What the first line of a figure and of its cell say: generated, from what, and not to edit it."""
    return f"Generated by nndl generate from the grader's {ORIGIN} (figure {name}); edit that, not this."


def svg_text(name):
    """The SVG document of figure ``name``, starting with its generated line."""
    width, height, body = FIGURES[name].draw()
    return svg.document(width, height, FIGURES[name].alt, "\n".join(body), generated_line(name))


def data_uri(name):
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text(name).encode("utf-8")).decode("ascii")


def cell_source(name):
    """The markdown of a figure's cell: the generated line (a comment), the image, its caption."""
    figure = FIGURES[name]
    return f"<!-- {generated_line(name)} -->\n![{figure.alt}]({data_uri(name)})\n\n*{figure.caption}*"


def figure_cell(name):
    """A new markdown cell that carries figure ``name``."""
    cell = nbformat.v4.new_markdown_cell(cell_source(name), metadata={"nndl": {"figure": name}})
    cell.id = "figure-" + name.removesuffix(".svg").replace("_", "-")
    return cell


def figure_name(cell):
    """The figure a cell carries, or None."""
    return cell.get("metadata", {}).get("nndl", {}).get("figure")


class FigureCellsError(ValueError):
    """A notebook's figure cells are not those ``PLACES`` gives its assignment; ``str()`` says which."""


def refresh(nb, assignment):
    """Rewrite every figure cell of ``nb`` from the drawings; True if anything changed.

    ``FigureCellsError`` if the notebook's figures are not those ``PLACES`` gives the assignment, in that order.
    """
    cells = [cell for cell in nb.cells if figure_name(cell)]
    found = [figure_name(cell) for cell in cells]
    if found != PLACES[assignment]:
        raise FigureCellsError(
            f"source/{assignment}/{assignment}.ipynb carries the figure cells {found}, expected "
            f"{PLACES[assignment]}: put a cell made by diagrams.figure_cell where one is missing, or change "
            f"PLACES in autograder/{ORIGIN}")
    changed = False
    for cell in cells:
        source = cell_source(figure_name(cell))
        if cell.source != source:
            cell.source, changed = source, True
    return changed


def refresh_notebook(path, assignment):
    """Refresh the figures of the notebook at ``path``; it is written only if one changed. Returns that."""
    nb = nbformat.read(path, as_version=4)
    changed = refresh(nb, assignment)
    if changed:
        nbformat.write(nb, path)
    return changed
