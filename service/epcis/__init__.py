"""GS1 EPCIS 2.0 / CBV 2.0: event hashes, identifiers, capture and query."""
