"""Flask-WTF forms: shape checks only; the services hold the rules."""
