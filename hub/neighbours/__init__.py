"""Neighbourhood federation: areas, discovery of nearby hubs, and what staff decide about them."""
