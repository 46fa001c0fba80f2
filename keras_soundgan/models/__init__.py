"""The networks and the adversarial model that trains them."""

__all__ = []
