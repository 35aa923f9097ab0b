"""Users: the admin ``deleteUser`` mutation (right to erasure)."""
