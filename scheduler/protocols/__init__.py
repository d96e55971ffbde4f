"""Treatment protocols as versioned data: definition, validation, seed, versions."""

from .definition import (
    FollowUp,
    Pairing,
    Phase,
    Prerequisite,
    ProtocolDefinition,
    Requirement,
    Step,
)
from .documents import definition_document, parse_definition
from .seed import SEED_PROTOCOLS, seed_protocols
from .spans import Span
from .versions import (
    add_version,
    create_protocol,
    current_version,
    definition_of,
    get_protocol,
    get_version,
    set_active,
    stored_definition,
    version_document,
)

__all__ = [
    "SEED_PROTOCOLS",
    "FollowUp",
    "Pairing",
    "Phase",
    "Prerequisite",
    "ProtocolDefinition",
    "Requirement",
    "Span",
    "Step",
    "add_version",
    "create_protocol",
    "current_version",
    "definition_document",
    "definition_of",
    "get_protocol",
    "get_version",
    "parse_definition",
    "seed_protocols",
    "set_active",
    "stored_definition",
    "version_document",
]
