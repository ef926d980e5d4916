"""The paints the elevated renderer uses: for every colour name, several real
shades (light and dark, vivid and muted, metallic), chosen here, by eye, as
what a person would call that name.  They are not the taggers' reference
colours, so a tagger cannot pass by recognising the renderer's own values."""

import numpy as np

SHADES = {
    "white": [(246, 246, 243), (236, 238, 240), (228, 228, 222), (242, 240, 232)],
    "silver": [(196, 199, 204), (178, 182, 188), (208, 210, 213), (165, 168, 174)],
    "grey": [(124, 126, 130), (100, 103, 108), (138, 137, 133), (86, 89, 94)],
    "black": [(18, 18, 20), (34, 35, 39), (26, 28, 34), (40, 38, 38)],
    "red": [(182, 22, 30), (205, 38, 38), (138, 16, 24), (220, 52, 44), (160, 28, 40)],
    "blue": [(26, 56, 152), (42, 92, 184), (20, 34, 92), (58, 108, 170), (32, 72, 204)],
    "green": [(30, 102, 50), (20, 70, 40), (62, 132, 60), (40, 110, 84), (92, 142, 58)],
    "yellow": [(236, 200, 30), (246, 216, 62), (222, 182, 20), (250, 226, 96)],
    "orange": [(232, 110, 20), (242, 132, 42), (212, 94, 18), (250, 152, 52)],
    "brown": [(102, 62, 36), (80, 50, 30), (124, 84, 50), (92, 64, 44)],
    "beige": [(214, 194, 150), (202, 186, 152), (226, 212, 172), (192, 172, 132)],
    "purple": [(96, 38, 116), (70, 30, 90), (122, 62, 142), (110, 40, 104)],
}


def paint(rng, name):
    """An RGB paint (float) of colour ``name``: one of its shades, varied a little."""
    shades = SHADES[name]
    base = np.asarray(shades[int(rng.integers(len(shades)))], dtype=np.float64)
    return np.clip(base * rng.uniform(0.95, 1.04) + rng.normal(0, 2.5, 3), 0, 255)
