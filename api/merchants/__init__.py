"""Merchant endpoints: onboarding, payment requests and QR codes, payments, refunds, settlement, statements,
reports and webhooks."""
