"""Benchmarks: scripts that measure and print figures for the README."""
