"""Recommendations: personalised lists (with experiment routing) and similar books."""
