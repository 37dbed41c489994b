"""`flask --app bot loyalty …` commands."""
