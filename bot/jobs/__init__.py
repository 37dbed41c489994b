"""Background work: the outbox, the campaign sender, the journey runner, the daily job, Celery wiring."""
