"""Where evidence comes from. Each source turns a target into a Target skeleton plus raw evidence."""
