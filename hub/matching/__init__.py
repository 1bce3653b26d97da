"""Matching volunteers to needs: one pure matcher for local volunteers and neighbours' needs."""

from hub.matching.geo import GeoPoint
from hub.matching.matcher import DEFAULT_WEIGHTS, VolunteerPool, Weights, exclusions, rank
from hub.matching.model import Candidate, Check, Concept, Consents, Need, Volunteer, concepts

__all__ = [
    "DEFAULT_WEIGHTS",
    "Candidate",
    "Check",
    "Concept",
    "Consents",
    "GeoPoint",
    "Need",
    "Volunteer",
    "VolunteerPool",
    "Weights",
    "concepts",
    "exclusions",
    "rank",
]
