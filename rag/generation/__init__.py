"""generation stage."""
