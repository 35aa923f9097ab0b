"""Audit trail of admin mutations (Redis stream) and the admin-only ``auditLog`` query."""
