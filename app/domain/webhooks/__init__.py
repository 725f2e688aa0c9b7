"""Webhooks to partners: subscriptions, a transactional outbox, deliveries with retries, signing."""
