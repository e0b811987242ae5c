"""Scheduled jobs; every module here registers with ``bot.scheduler.job`` on import."""
