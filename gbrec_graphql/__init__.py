"""gbrec_graphql."""
