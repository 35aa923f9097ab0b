"""gbrec_core."""
