"""Services: API clients, storage and domain logic. Nothing in this package imports Slack."""
