"""Offline validation: findings, schema checks, policy rules and reference rules."""
