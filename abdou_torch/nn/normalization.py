"""Placeholder: filled in by the convolutional-networks work."""
__all__: list = []
