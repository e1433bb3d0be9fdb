"""A few SVG shapes written by hand, for the notebooks' diagrams (``generate/diagrams.py``).

Plain text in, plain text out, nothing measured from fonts: the same call gives the same bytes on
every machine. Labels take a small markup for the course's notation: ``_{...}`` a subscript,
``^{...}`` a superscript, so ``W^{[1]}`` is the weight of layer 1 and ``x_{n_x}`` the last input.
"""
import re
from xml.sax.saxutils import escape

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
INK = "#1f2d3d"  # labels and forward arrows
BACKWARD = "#b03a2e"  # everything that belongs to the backward pass
GRAY = "#5b6770"  # notes, connections and what is stored
_SCRIPT = re.compile(r"([_^])\{([^{}]*)\}")


def _number(value):
    """A coordinate as short, fixed text: 12, 12.5, never 12.500000001."""
    return f"{round(value, 2):g}"


def label(text, size):
    """SVG text content of ``text``: its ``_{}`` and ``^{}`` parts as shifted, smaller tspans, and the
    spaces of a run of spaces kept (SVG would collapse them into one)."""
    parts, position, offset, small = [], 0, 0.0, _number(size * 0.72)
    for match in [*_SCRIPT.finditer(text), None]:
        plain = text[position:match.start() if match else len(text)]
        if plain and offset:
            parts.append(f'<tspan dy="{_number(-offset)}">{_escape(plain)}</tspan>')  # back to the baseline
            offset = 0.0
        elif plain:
            parts.append(_escape(plain))
        if match:
            shift = size * (0.3 if match.group(1) == "_" else -0.4)
            parts.append(f'<tspan dy="{_number(shift - offset)}" font-size="{small}">{_escape(match.group(2))}</tspan>')
            offset, position = shift, match.end()
    return "".join(parts)


def _escape(plain):
    return escape(re.sub(r" {2,}", lambda run: " " + "\u00a0" * (len(run.group()) - 1), plain))


def text(x, y, content, size=14, anchor="middle", color=INK, weight="normal", style="normal"):
    """One line of text whose baseline starts (``anchor="start"``) or is centered (``"middle"``) at ``(x, y)``."""
    return (f'<text x="{_number(x)}" y="{_number(y)}" font-size="{_number(size)}" text-anchor="{anchor}" '
            f'fill="{color}" font-weight="{weight}" font-style="{style}">{label(content, size)}</text>')


def lines(x, y, contents, size=14, spacing=1.3, **options):
    """Several lines of text, centered as a block on ``y``."""
    top = y - (len(contents) - 1) * size * spacing / 2 + size * 0.35
    return "".join(text(x, top + i * size * spacing, line, size, **options) for i, line in enumerate(contents))


def box(x, y, width, height, contents=(), fill="#eef3f8", stroke=INK, dashed=False, size=14, color=INK):
    """A rounded rectangle with its top-left corner at ``(x, y)`` and lines of text centered in it."""
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    shape = (f'<rect x="{_number(x)}" y="{_number(y)}" width="{_number(width)}" height="{_number(height)}" '
             f'rx="8" fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/>')
    return shape + (lines(x + width / 2, y + height / 2, contents, size, color=color) if contents else "")


def circle(cx, cy, r, content="", fill="#ffffff", stroke=INK, size=14):
    """A circle centered at ``(cx, cy)`` with a label in its middle."""
    shape = (f'<circle cx="{_number(cx)}" cy="{_number(cy)}" r="{_number(r)}" fill="{fill}" stroke="{stroke}" '
             f'stroke-width="1.5"/>')
    return shape + (lines(cx, cy, [content], size) if content else "")


def arrow(x1, y1, x2, y2, color=INK, dashed=False, head=True, width=1.5):
    """A straight line from ``(x1, y1)`` to ``(x2, y2)``, with an arrowhead at its end unless ``head=False``."""
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    marker = f' marker-end="url(#{_marker_id(color)})"' if head else ""
    return (f'<line x1="{_number(x1)}" y1="{_number(y1)}" x2="{_number(x2)}" y2="{_number(y2)}" '
            f'stroke="{color}" stroke-width="{_number(width)}"{dash}{marker}/>')


def _marker_id(color):
    return "head-" + color.lstrip("#")


def _marker(color):
    return (f'<marker id="{_marker_id(color)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{color}"/></marker>')


def document(width, height, title, body, generated):
    """A standalone SVG: a first line saying it is ``generated``, its ``title`` (read by screen readers)
    and ``body``, the shapes above, on a white ground of ``width`` x ``height`` pixels."""
    markers = "".join(_marker(color) for color in (INK, BACKWARD, GRAY))
    return (f"<!-- {escape(generated)} -->\n"
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{FONT}">\n'
            f"<title>{escape(title)}</title>\n"
            f"<defs>{markers}</defs>\n"
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>\n'
            f"{body}\n</svg>\n")
