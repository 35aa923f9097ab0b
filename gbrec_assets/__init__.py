"""gbrec_assets."""
