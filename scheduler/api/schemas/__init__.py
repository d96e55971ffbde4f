"""Marshmallow schemas of the JSON API: what each resource looks like on the wire."""
