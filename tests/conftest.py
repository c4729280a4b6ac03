"""Shared fixtures. Matplotlib renders headless (Agg) everywhere in the suite."""
import matplotlib

matplotlib.use("Agg")
