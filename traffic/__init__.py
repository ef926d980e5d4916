"""Beam-free domain logic: images, vehicles, colours, statistics.

Everything in this package can be imported and tested without Apache Beam; the
``transforms`` package wraps it in PTransforms.
"""
