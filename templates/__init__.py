"""The default templates, installed as package data (see pyproject.toml)."""
