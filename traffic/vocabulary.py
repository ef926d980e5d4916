"""The shared vocabulary of vehicle types and colour names.

The sample generator and every tagger use these names, so outputs, ground truth
and summaries line up.
"""

VEHICLE_TYPES = ("car", "truck", "bus", "motorcycle")

# Twelve colour names and the sRGB value each one stands for.  The tagger names
# a colour by the nearest of these in CIELAB; the generator paints vehicles in
# shades around them.
COLOUR_RGB = {
    "white": (236, 236, 234),
    "silver": (184, 187, 192),
    "grey": (118, 120, 124),
    "black": (26, 26, 28),
    "red": (172, 24, 30),
    "blue": (28, 58, 150),
    "green": (28, 104, 48),
    "yellow": (232, 196, 32),
    "orange": (230, 114, 20),
    "brown": (104, 66, 38),
    "beige": (212, 192, 148),
    "purple": (96, 38, 116),
}
COLOURS = tuple(COLOUR_RGB)

# Share of each colour among vehicles of each type on the road.  Cars follow
# published world-wide car-colour surveys (white, black, grey and silver make up
# about three quarters); buses and truck cabs are more often white or a livery
# colour.
COLOUR_SHARES = {
    "car": {"white": .26, "black": .19, "grey": .17, "silver": .11,
            "blue": .09, "red": .09, "brown": .02, "beige": .02,
            "green": .02, "yellow": .01, "orange": .01, "purple": .01},
    "truck": {"white": .40, "red": .12, "blue": .12, "silver": .08,
              "grey": .08, "black": .06, "green": .05, "yellow": .04,
              "orange": .04, "brown": .01},
    "bus": {"white": .30, "yellow": .15, "red": .15, "blue": .15,
            "green": .10, "silver": .08, "orange": .07},
    "motorcycle": {"black": .30, "red": .18, "blue": .12, "white": .12,
                   "grey": .10, "silver": .08, "orange": .05, "green": .05},
}

# Share of each type among vehicles on a busy urban highway.
TYPE_SHARES = {"car": .80, "truck": .10, "bus": .04, "motorcycle": .06}


def empty_counts(names=VEHICLE_TYPES):
    """A dict with every name at zero, in vocabulary order."""
    return {name: 0 for name in names}
