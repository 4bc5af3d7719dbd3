"""The declarative cluster spec: models, loader, rules and the error formatter."""
