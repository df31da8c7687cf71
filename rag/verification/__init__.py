"""verification stage."""
